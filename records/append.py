"""Appending to the chain: one transaction per batch of entries, each after the head.

An assessment's payload is `{"index": {decision_digest, name, plan, size_class}, "record":
<the record>}`; payloads are stored zlib-compressed (their hash is over the JSON itself).
The columns `name`, `size_class`, `plan`, `digest` and `target` are an index for `list`,
copied from the payload and checked against it by `verify`.

A record is built and compressed before the lock, after the head as it then is, and built
again under the lock only when another writer came first. Appends are durable when they
return (synchronous=FULL) unless the registry is opened with `durable=False` (batch).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from pnman.engine.record import SCHEMA, canonical_json, seal
from pnman.knowledge.errors import InputError

from .chain import entry_hash, new_id, pack, payload_bytes, timestamp
from .entries import Entry
from .schema import COLUMNS, begin_immediate, rollback

# A builder gets the new entry's id, the head it follows and the connection (None before the
# lock), and returns (kind, payload, index columns).
Builder = Callable[[str, "str | None", "sqlite3.Connection | None"], tuple[str, dict, tuple]]


def append(conn: sqlite3.Connection, path: Path, builders: list[Builder], *, prepare: bool = False) -> list[Entry]:
    """Append entries, in one transaction taken with BEGIN IMMEDIATE.

    With `prepare` (the first builder reads nothing), the first entry is built before the
    lock, after the head as it is then; under the lock, when the head is still that one,
    only its time and hash remain to do (the lock is held a fraction of a millisecond
    instead of the millisecond or two that sealing and compressing a record take); when
    another writer came first, it is built again there."""
    prepared = None
    try:
        if prepare and builders:
            seq, head = _head(conn)
            prepared = (seq, head, *_build(builders[0], new_id(seq + 1), head, None))
        begin_immediate(conn)
    except sqlite3.Error as exc:
        raise InputError(f"cannot be written ({exc})", file=str(path)) from None
    try:
        seq, head = _head(conn)
        entries = []
        for position, build in enumerate(builders):
            if position == 0 and prepared is not None and prepared[:2] == (seq, head):
                built = prepared[2:]
            else:
                built = _build(build, new_id(seq + 1), head, conn)
            entry_id, kind, payload, index, data, blob = built
            seq += 1
            created_at = timestamp()
            digest = entry_hash(entry_id, created_at, kind, data, head)
            conn.execute(f"INSERT INTO entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (seq, entry_id, created_at, kind, blob, head, digest, *index))
            entries.append(Entry(seq, entry_id, created_at, kind, digest, head, payload))
            head = digest
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        rollback(conn)
        raise InputError(f"cannot be written ({exc})", file=str(path)) from None
    except BaseException:
        rollback(conn)
        raise
    return entries


def _head(conn: sqlite3.Connection) -> tuple[int, str | None]:
    row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, None)


def _build(build: Builder, entry_id: str, head: str | None, conn) -> tuple:
    kind, payload, index = build(entry_id, head, conn)
    data = payload_bytes(payload)
    return entry_id, kind, payload, index, data, pack(data)


def checked_record(record: Mapping[str, Any]) -> dict:
    if not isinstance(record, Mapping) or record.get("schema") != SCHEMA:
        raise InputError(f"expected an assessment record (schema '{SCHEMA}')", key="record")
    for key, kind in (("profile", dict), ("fiches", list), ("plan", list)):
        if not isinstance(record.get(key), kind):
            raise InputError(f"expected {kind.__name__}", key=f"record.{key}")
    return dict(record)


def assessment_index(record: Mapping[str, Any]) -> dict:
    """What `list` shows and filters on, from the record: kept in the hashed payload beside the
    record, and in the index columns (checked against it by `verify`)."""
    name = record["profile"].get("name")
    planned = list(dict.fromkeys(s["fiche"] for s in record["plan"]
                                 if isinstance(s, dict) and s.get("kind") == "fiche"))
    return {"decision_digest": record.get("decision_digest"), "name": name if isinstance(name, str) else None,
            "plan": planned, "size_class": record.get("size_class")}


def index_columns(index: Mapping[str, Any]) -> tuple:
    """The index columns (name, size_class, plan, digest, target) of an assessment's index."""
    return index["name"], index["size_class"], canonical_json(index["plan"]), index["decision_digest"], None


def assessment_builder(record: dict) -> Builder:
    def build(entry_id: str, head: str | None, conn) -> tuple[str, dict, tuple]:
        stored = {k: v for k, v in record.items() if k not in ("registry", "_source")}
        stored["registry"] = {"entry": entry_id, "head": head}
        if "record_hash" in record:
            stored = seal(stored)
        index = assessment_index(stored)
        return "assessment", {"index": index, "record": stored}, index_columns(index)
    return build


def append_assessments(conn: sqlite3.Connection, path: Path, records: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Append several records in one transaction (one wait for the lock, one commit)."""
    records = [checked_record(r) for r in records]
    return append(conn, path, [assessment_builder(r) for r in records], prepare=True) if records else []
