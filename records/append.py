"""Appending to the chain: one transaction per batch of entries, each after the head.

An assessment's payload is `{"index": {decision_digest, name, plan, size_class[, source]},
"record": <the record>}`; payloads are stored zlib-compressed (their hash is over the JSON
itself). The columns `name`, `size_class`, `plan`, `digest`, `target` and `source` are an
index for `list` and for finding a source, copied from the payload and checked against it
by `verify`.

A source (`{"portfolio": "sha256:…", "row": 12}`: a batch's portfolio and row) is recorded
once: the column is UNIQUE, and an append whose source is in the chain already appends
nothing and gives back the entry that holds it (`Entry.recorded_before`), under the same
lock, so two runs of one portfolio cannot both record a row.

The record as stored carries where it was chained, `record["registry"] = {entry, head,
checkpoint?, replaces?}` (the latest checkpoint then; the entry a new decision replaces).
That block is not under the record's own hash (engine.record.NOT_HASHED): the chain's hash
covers it, and the record is not sealed a second time.

A record is built and compressed before the lock, after the head as it then is, and built
again under the lock only when another writer came first. Appends are durable when they
return (synchronous=FULL) unless the registry is opened with `durable=False` (batch).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import orjson

from pnman.engine.record import SCHEMA, canonical_bytes, canonical_json, canonical_pieces
from pnman.knowledge.errors import InputError, Phrase

from . import figures_index
from .chain import entry_hash, new_id, pack, payload_bytes, timestamp, unpack
from .entries import Entry, entry_of
from .schema import COLUMNS, begin_immediate, rollback

# A builder gets the new entry's id, the head it follows and the connection, and returns
# (kind, payload, index columns) — or an Entry already in the chain (a source recorded before).
Builder = Callable[[str, "str | None", sqlite3.Connection], "tuple[str, dict, tuple] | Entry"]


def append(conn: sqlite3.Connection, path: Path, builders: list[Builder], *, prepare: bool = False) -> list[Entry]:
    """Append entries, in one transaction taken with BEGIN IMMEDIATE.

    With `prepare`, the first entry is built before the lock, after the head as it is then
    (what it reads of the chain cannot change while the head does not); under the lock, when the head is still that one,
    only its time and hash remain to do (the lock is held a fraction of a millisecond
    instead of the millisecond or two that sealing and compressing a record take); when
    another writer came first, it is built again there."""
    prepared = None
    try:
        if prepare and builders:
            seq, head = _head(conn)
            prepared = (seq, head, *_build(builders[0], new_id(seq + 1), head, conn))
        begin_immediate(conn)
    except sqlite3.Error as exc:
        raise InputError(Phrase("registry.write_failed", reason=str(exc)), file=str(path)) from None
    try:
        seq, head = _head(conn)
        indexing = figures_index.append_hook(conn)      # the dashboard's index, kept in this transaction
        entries = []
        for position, build in enumerate(builders):
            if position == 0 and prepared is not None and prepared[:2] == (seq, head):
                built = prepared[2:]
            else:
                built = _build(build, new_id(seq + 1), head, conn)
            if isinstance(built[0], Entry):         # recorded before: nothing appended
                entries.append(built[0])
                continue
            entry_id, kind, payload, columns, data, blob = built
            seq += 1
            created_at = timestamp()
            digest = entry_hash(entry_id, created_at, kind, data, head)
            conn.execute(f"INSERT INTO entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (seq, entry_id, created_at, kind, blob, head, digest, *columns))
            if indexing is not None:
                indexing(seq, entry_id, created_at, kind, payload)
            entries.append(Entry(seq, entry_id, created_at, kind, digest, head, payload))
            head = digest
        if indexing is not None:
            indexing.write()
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        rollback(conn)
        raise InputError(Phrase("registry.write_failed", reason=str(exc)), file=str(path)) from None
    except BaseException:
        rollback(conn)
        raise
    return entries


def _head(conn: sqlite3.Connection) -> tuple[int, str | None]:
    row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, None)


def _build(build: Builder, entry_id: str, head: str | None, conn) -> tuple:
    built = build(entry_id, head, conn)
    if isinstance(built, Entry):
        return (built,)
    kind, payload, columns, *data = built        # a builder may give the payload's bytes, already made
    data = data[0] if data else payload_bytes(payload)
    return entry_id, kind, payload, columns, data, pack(data)


def assessment_payload_bytes(index: Mapping[str, Any], record: Mapping[str, Any], parts: Mapping | None = None) -> bytes:
    """payload_bytes({"index": index, "record": record}), the record's big parts taken as its
    digest and seal serialised them (engine.record.canonical_bytes; `parts`: kept_parts)."""
    return b"".join((b'{"index":', canonical_bytes(index), b',"record":', *canonical_pieces(record, parts), b"}"))


def checked_record(record: Mapping[str, Any]) -> dict:
    if not isinstance(record, Mapping) or record.get("schema") != SCHEMA:
        raise InputError(Phrase("registry.record", schema=SCHEMA), key="record")
    for key, kind in (("profile", dict), ("fiches", list), ("plan", list)):
        if not isinstance(record.get(key), kind):
            raise InputError(Phrase(f"audit.kinds.{kind.__name__}"), key=f"record.{key}")
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
    """The index columns (name, size_class, plan, digest, target, source) of an assessment's index."""
    source = index.get("source")
    return (index["name"], index["size_class"], canonical_json(index["plan"]), index["decision_digest"], None,
            canonical_json(source) if source is not None else None)


def checked_source(source: Mapping[str, Any] | None) -> dict | None:
    """A batch row's source: {"portfolio": "sha256:<64 hex>", "row": a positive number}."""
    if source is None:
        return None
    portfolio, row = source.get("portfolio"), source.get("row")
    if not (isinstance(portfolio, str) and portfolio.startswith("sha256:") and len(portfolio) == 71) \
            or isinstance(row, bool) or not isinstance(row, int) or row < 1:
        raise InputError(Phrase("registry.source"), key="source")
    return {"portfolio": portfolio, "row": row}


def latest_checkpoint(conn: sqlite3.Connection) -> dict | None:
    """The latest checkpoint, as a record's registry block names it (entry, hash, count, at)."""
    row = conn.execute("SELECT id, hash, payload FROM entries WHERE kind = 'checkpoint' "
                       "ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return None
    try:
        payload = orjson.loads(unpack(row[2]))
        return {"entry": row[0], "hash": row[1], "count": payload["count"], "at": payload["at"]}
    except Exception:  # noqa: BLE001 - an unreadable checkpoint is verify's to name, not an append's
        return None


def assessment_builder(record: dict, source: dict | None = None, replaces: str | None = None,
                       parts: Mapping | None = None) -> Builder:
    def build(entry_id: str, head: str | None, conn: sqlite3.Connection):
        if source is not None:
            found = conn.execute(f"SELECT {COLUMNS} FROM entries WHERE source = ?",
                                 (canonical_json(source),)).fetchone()
            if found is not None:
                return entry_of(found, recorded_before=True)
        stored = {k: v for k, v in record.items() if k not in ("registry", "_source")}
        block = {"entry": entry_id, "head": head}
        checkpoint = latest_checkpoint(conn)
        if checkpoint is not None:
            block["checkpoint"] = checkpoint
        if replaces is not None:
            block["replaces"] = replaces
        stored["registry"] = block
        index = assessment_index(stored)
        if source is not None:
            index["source"] = source
        return "assessment", {"index": index, "record": stored}, index_columns(index), \
            assessment_payload_bytes(index, stored, parts)
    return build


def append_assessments(conn: sqlite3.Connection, path: Path, records: Iterable[Mapping[str, Any]], *,
                       sources: Iterable[Mapping[str, Any] | None] | None = None,
                       replaces: str | None = None, parts: Iterable[Mapping | None] | None = None) -> list[Entry]:
    """Append several records in one transaction (one wait for the lock, one commit). A record
    whose source (`sources`, one per record) is in the chain already is not appended again:
    its entry comes back, `recorded_before`. `replaces`: the entry the first record's
    decision replaces (the web's result after a changed answer). `parts`: each record's
    engine.record.kept_parts, taken when it was made (its JSON is then not made again)."""
    records = [checked_record(r) for r in records]
    sources = [checked_source(s) for s in sources] if sources is not None else [None] * len(records)
    parts = list(parts) if parts is not None else [None] * len(records)
    builders = [assessment_builder(r, s, replaces if n == 0 else None, p)
                for n, (r, s, p) in enumerate(zip(records, sources, parts, strict=True))]
    return append(conn, path, builders, prepare=True) if records else []
