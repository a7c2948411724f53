"""The hash chain of the assessment registry: entry ids, entry hashes, payload bytes. No SQL.

An entry is (id, created_at, kind, payload, prev_hash). Its hash is the SHA-256 of the
canonical JSON (engine.record.canonical_json: sorted keys, compact, UTF-8) of exactly
those five fields; `prev_hash` is the previous entry's hash (null for the first), so a
change to any past entry breaks every link after it.

Entry ids are `<seq>-<6 hex>`: the entry's position in the chain (1, 2, 3…) and three
random bytes. The position makes an id short and ordered; the random part keeps two
registries' ids apart and turns a typo (`42` for `43`) into an unknown id rather than
another company's entry. Identical assessments share their `decision_digest`, never an id.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from datetime import datetime, timezone
from typing import Any

from .record import canonical_json

HASH_PREFIX = "sha256:"
ID_PATTERN = re.compile(r"^(?P<seq>[1-9][0-9]*)-(?P<tag>[0-9a-f]{6})$")
COMPRESSION = 3       # zlib level of the stored payload: 130 kB of record JSON keep about 12 kB (level 6: 10 kB, 3 times slower)


def new_id(seq: int) -> str:
    return f"{seq}-{secrets.token_hex(3)}"


def id_seq(entry_id: str) -> int | None:
    """The chain position an id names, or None for text that is no entry id."""
    match = ID_PATTERN.match(entry_id or "")
    return int(match.group("seq")) if match else None


def timestamp() -> str:
    """Now, in UTC to the microsecond: ISO 8601 text that sorts as time does."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def payload_bytes(payload: Any) -> bytes:
    """The payload's canonical JSON: what is hashed and, compressed, what is stored."""
    return canonical_json(payload).encode("utf-8")


def entry_hash(entry_id: str, created_at: str, kind: str, payload: bytes, prev_hash: str | None) -> str:
    """sha256 of canonical_json({"id", "created_at", "kind", "payload", "prev_hash"}).

    The payload is already canonical JSON: it is spliced in where the sorted keys put it
    (created_at, id, kind, payload, prev_hash) rather than parsed and dumped again; the
    bytes are the same (tests/test_registry.py checks it)."""
    head = canonical_json({"created_at": created_at, "id": entry_id, "kind": kind})
    tail = canonical_json({"prev_hash": prev_hash})
    digest = hashlib.sha256()
    digest.update(head[:-1].encode("utf-8"))
    digest.update(b',"payload":')
    digest.update(payload)
    digest.update(b",")
    digest.update(tail[1:].encode("utf-8"))
    return HASH_PREFIX + digest.hexdigest()


def pack(payload: bytes) -> bytes:
    return zlib.compress(payload, COMPRESSION)


def unpack(blob: bytes) -> bytes:
    """The payload's JSON bytes; zlib.error or TypeError when the stored bytes are not a payload."""
    return zlib.decompress(blob)
