"""What the registry gives back: an entry of the chain, read from its row, found by its id."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from pnman.knowledge.errors import InputError, Phrase

from .chain import id_seq, unpack
from .schema import COLUMNS


@dataclass(frozen=True)
class Entry:
    """One entry of the chain; `payload` is the record (an assessment) or the override."""
    seq: int
    id: str
    created_at: str
    kind: str
    hash: str
    prev_hash: str | None
    payload: dict | None = field(default=None, repr=False, compare=False)
    recorded_before: bool = field(default=False, compare=False)     # its source was in the chain already

    @property
    def record(self) -> dict | None:
        """An assessment's record, as recorded (its payload is {"index": …, "record": …})."""
        return self.payload["record"] if self.kind == "assessment" and self.payload else None

    def as_dict(self) -> dict:
        return {"seq": self.seq, "id": self.id, "created_at": self.created_at, "kind": self.kind,
                "hash": self.hash, "prev_hash": self.prev_hash}


def payload_of(row) -> dict:
    """The payload of an entry row (columns in schema.COLUMNS order), parsed."""
    return orjson.loads(unpack(row[4]))


def entry_of(row, *, recorded_before: bool = False) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], row[6], row[5], payload_of(row), recorded_before)


def source_of(entry: Entry) -> dict | None:
    """Where an assessment came from (a portfolio's SHA-256 and row), when it says."""
    return (entry.payload or {}).get("index", {}).get("source") if entry.kind == "assessment" else None


def row(conn: sqlite3.Connection, path: Path, entry_id: str):
    found = conn.execute(f"SELECT {COLUMNS} FROM entries WHERE id = ?", (str(entry_id),)).fetchone()
    if found is None:
        hint = Phrase("registry.id_hint") if id_seq(str(entry_id)) is None else ""
        raise InputError(Phrase("registry.no_entry", entry=repr(str(entry_id)), hint=hint), file=str(path), key="ID")
    return found


def assessment_row(conn: sqlite3.Connection, path: Path, entry_id: str):
    found = row(conn, path, entry_id)
    if found[3] != "assessment":
        what = Phrase("registry.an_override", target=found[11]) if found[3] == "override" else \
            Phrase("registry.a_kind", kind=found[3])
        raise InputError(Phrase("registry.not_assessment", entry=entry_id, what=what), file=str(path), key="ID")
    return found
