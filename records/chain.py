"""The hash chain of the assessment registry: entry ids, entry hashes, payload bytes, and
the walk that verifies them.

An entry is (id, created_at, kind, payload, prev_hash). Its hash is the SHA-256 of the
canonical JSON (pnman.engine.record.canonical_json: sorted keys, compact, UTF-8) of exactly
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
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from pnman.engine.record import canonical_json

HASH_PREFIX = "sha256:"
ID_PATTERN = re.compile(r"^(?P<seq>[1-9][0-9]*)-(?P<tag>[0-9a-f]{6})$")
try:        # ISA-L's zlib: the same streams, made in a quarter of the time (0.10 ms for a record of 130 kB)
    from isal.isal_zlib import compress as _compress, decompress as _decompress
    COMPRESSION = 1     # ISA-L level 1: 130 kB of record JSON keep about 14 kB (zlib level 3: 12 kB in 0.43 ms)
except ImportError:     # pragma: no cover - isal is a dependency; a platform without its wheel still works
    from zlib import compress as _compress, decompress as _decompress
    COMPRESSION = 3     # zlib level 3: about 12 kB (level 6: 10 kB, 3 times slower)


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
    """The payload as stored: a zlib stream (RFC 1950), the one format since schema 1 —
    made by ISA-L (python-isal) where it is installed, four times as fast as zlib for a few
    per cent more bytes; any zlib reads it. A new format would need its own mark (a zlib
    stream's first byte is 0x78) and a schema version, so that older pnman refuse it."""
    return _compress(payload, COMPRESSION)


def unpack(blob: bytes) -> bytes:
    """The payload's JSON bytes; zlib.error or TypeError when the stored bytes are not a payload."""
    return _decompress(blob)


# -- verifying -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """The first entry that does not hold, and how (a code the faces put in words)."""
    seq: int
    id: str
    code: str       # sequence | id | link | hash | payload | index | target
    detail: str = ""

    def as_dict(self) -> dict:
        return {"seq": self.seq, "id": self.id, "problem": self.code, "detail": self.detail}


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    checked: int                # entries that hold, from the first on
    head: str | None            # the hash of the last entry, as stored
    last_good: str | None       # the hash of the last entry that holds (the head when all hold)
    problem: Problem | None
    triggers_missing: tuple[str, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.triggers_missing

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "checked": self.checked, "head": self.head,
                "last_good": self.last_good,
                "first_broken": self.problem.as_dict() if self.problem else None,
                "triggers_missing": list(self.triggers_missing), "seconds": round(self.seconds, 3)}


def verify(conn: sqlite3.Connection, columns: str, triggers: tuple[str, ...], kinds: tuple[str, ...],
           gone_key: str = "triggers_missing_before_migration") -> VerifyReport:
    """Walk the chain in order, in one read snapshot: every position present, every id naming
    its position, every link to the previous hash, every hash over its content, every
    index column as its payload says, every override naming an earlier assessment. Stops
    at the first entry that does not hold. Also says whether the triggers are still there
    (and were when a migration made them again: `meta[gone_key]`)."""
    started = time.perf_counter()
    conn.execute("BEGIN")
    try:
        present = {name for (name,) in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'trigger'")}
        gone = conn.execute("SELECT value FROM meta WHERE key = ?", (gone_key,)).fetchone()
        present -= set(gone[0].split(",")) if gone else set()      # gone before a migration made them again
        missing = tuple(t for t in triggers if t not in present)
        total = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        last = conn.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        seen: dict[str, str] = {}
        previous: str | None = None
        checked = 0
        problem = None
        for row in conn.execute(f"SELECT {columns} FROM entries ORDER BY seq"):
            problem = check_row(row, checked + 1, previous, seen, kinds)
            if problem is not None:
                break
            checked += 1
            seen[row[1]] = row[3]
            previous = row[6]
    finally:
        conn.execute("COMMIT")
    return VerifyReport(total, checked, last[0] if last else None, previous, problem, missing,
                        time.perf_counter() - started)


def index_prefix(name, size_class, plan, digest, source=None) -> bytes | None:
    """How an assessment's payload starts when its index columns are right: its canonical JSON
    is {"index": {…}, "record": {…}}, the index first (sorted keys; `source` in it only for an
    entry that has one). Checked without parsing the record: `verify` costs a decompression
    and a hash, not a parse of 100 kB."""
    try:
        planned = orjson.loads(plan)
        index = {"decision_digest": digest, "name": name, "plan": planned, "size_class": size_class}
        if source is not None:
            index["source"] = orjson.loads(source)
    except (orjson.JSONDecodeError, TypeError):
        return None
    return canonical_json({"index": index})[:-1].encode("utf-8") + b',"record":{'


def check_row(row, expected: int, previous: str | None, seen: dict[str, str], kinds: tuple[str, ...]) -> Problem | None:
    """The problem of one entry row (None when it holds), given the hash before it and the kind
    of every entry before it."""
    seq, entry_id, created_at, kind, blob, prev_hash, digest, name, size, plan, digest_col, target, source = row
    if seq != expected:
        return Problem(seq, entry_id, "sequence", f"{expected}")
    if id_seq(entry_id) != seq:
        return Problem(seq, entry_id, "id")
    if prev_hash != previous:
        return Problem(seq, entry_id, "link")
    try:
        data = unpack(blob)
    except Exception:  # noqa: BLE001 - zlib.error, TypeError: the stored bytes are no payload
        return Problem(seq, entry_id, "payload")
    if kind not in kinds or not isinstance(created_at, str) or entry_hash(entry_id, created_at, kind, data,
                                                                          prev_hash) != digest:
        return Problem(seq, entry_id, "hash")
    if kind == "assessment":
        prefix = index_prefix(name, size, plan, digest_col, source)
        if target is not None or prefix is None or not data.startswith(prefix):
            return Problem(seq, entry_id, "index")
        return None
    try:
        payload = orjson.loads(data)
        columns = (None, None, None, None, payload["entry"] if kind == "override" else None, None)
        if kind == "checkpoint":
            payload["count"], payload["head"], payload["signature"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return Problem(seq, entry_id, "payload")
    if columns != (name, size, plan, digest_col, target, source):
        return Problem(seq, entry_id, "index")
    if kind == "override" and seen.get(target) != "assessment":
        return Problem(seq, entry_id, "target", str(target))
    return None
