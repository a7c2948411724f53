"""Reading the registry: one entry, an assessment with its overrides, the list, the export.

Every function takes a connection (the Registry's, one a thread) and the file's path (for
the messages); none writes.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time as day_time, timezone
from pathlib import Path
from typing import Iterator

import orjson

from pnman.engine.record import canonical_json
from pnman.knowledge.errors import InputError, Phrase

from .chain import unpack
from .entries import Entry, assessment_row, entry_of, row
from .overrides import Override, override_of
from .schema import COLUMNS

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Summary:
    """An assessment entry as `registry list` shows it."""
    seq: int
    id: str
    created_at: str
    name: str | None
    size_class: str | None
    plan: tuple[int, ...]
    overrides: int
    decision_digest: str | None
    hash: str

    def as_dict(self) -> dict:
        return {"id": self.id, "seq": self.seq, "created_at": self.created_at, "name": self.name,
                "size_class": self.size_class, "plan": list(self.plan), "overrides": self.overrides,
                "decision_digest": self.decision_digest, "hash": self.hash}


@dataclass(frozen=True)
class Shown:
    """An assessment entry with its overrides, apart from the engine's decision."""
    entry: Entry
    record: dict
    overrides: tuple[Override, ...]

    def effective(self) -> dict[int, Override]:
        """The override in force for each overridden fiche: the latest one (an override back to
        the engine's own status ends the override)."""
        latest: dict[int, Override] = {}
        for override in self.overrides:
            latest[override.fiche] = override
        return {n: o for n, o in latest.items() if o.status != o.engine_status}

    def as_dict(self) -> dict:
        return {**self.entry.as_dict(), "source": (self.entry.payload or {}).get("index", {}).get("source"),
                "record": self.record,
                "overrides": [o.as_dict() for o in self.overrides],
                "effective_overrides": {str(n): o.status for n, o in sorted(self.effective().items())}}


def parse_when(text: str, *, end: bool = False, key: str = "--since") -> datetime:
    """A date (2025-03-01) or an ISO date and time as an aware UTC datetime; a time without a
    zone is UTC. With `end`, a bare date means the end of that day (an inclusive --until)."""
    value = str(text).strip()
    try:
        if DATE.match(value):
            day = datetime.fromisoformat(value).date()
            when = datetime.combine(day, day_time.max if end else day_time.min)
        else:
            when = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(Phrase("date_filter", found=repr(value)), key=key) from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _iso(when: datetime | str | None) -> str | None:
    if when is None:
        return None
    if isinstance(when, str):
        when = parse_when(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def head(conn: sqlite3.Connection) -> str | None:
    """The hash of the last entry (None for an empty registry)."""
    row = conn.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    return row[0] if row else None


def count(conn: sqlite3.Connection, kind: str | None = None) -> int:
    if kind is None:
        return conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    return conn.execute("SELECT COUNT(*) FROM entries WHERE kind = ?", (kind,)).fetchone()[0]


def holds_hash(conn: sqlite3.Connection, digest: str) -> bool:
    """Whether an entry of the chain has this hash (with or without its "sha256:")."""
    text = str(digest).strip()
    text = text if text.startswith("sha256:") else "sha256:" + text
    return conn.execute("SELECT 1 FROM entries WHERE hash = ?", (text,)).fetchone() is not None


def source_entry(conn: sqlite3.Connection, source: dict) -> str | None:
    """The id of the entry that holds this source (a portfolio's SHA-256 and row), or None."""
    found = conn.execute("SELECT id FROM entries WHERE source = ?", (canonical_json(source),)).fetchone()
    return found[0] if found else None


def source_entries(conn: sqlite3.Connection, sources: list[dict]) -> dict[int, str]:
    """Of these sources (one portfolio's rows), those held, by row: {row: entry id}."""
    found: dict[int, str] = {}
    for start in range(0, len(sources), 500):       # within SQLite's limit of parameters
        keys = {canonical_json(s): s["row"] for s in sources[start:start + 500]}
        rows = conn.execute(f"SELECT source, id FROM entries WHERE source IN ({', '.join('?' * len(keys))})",
                            list(keys))
        found.update((keys[source], entry_id) for source, entry_id in rows)
    return found


def get(conn: sqlite3.Connection, path: Path, entry_id: str) -> Entry:
    return entry_of(row(conn, path, entry_id))


def overrides(conn: sqlite3.Connection, entry_id: str) -> tuple[Override, ...]:
    """The overrides of an assessment entry, oldest first."""
    rows = conn.execute(f"SELECT {COLUMNS} FROM entries WHERE kind = 'override' AND target = ? "
                        "ORDER BY seq", (str(entry_id),)).fetchall()
    return tuple(override_of(r) for r in rows)


def show(conn: sqlite3.Connection, path: Path, entry_id: str) -> Shown:
    """An assessment entry: its record as recorded, and its overrides apart."""
    conn.execute("BEGIN")
    try:
        entry = entry_of(assessment_row(conn, path, entry_id))
        kept = overrides(conn, entry.id)
    finally:
        conn.execute("COMMIT")
    return Shown(entry, entry.record, kept)


def listing(conn: sqlite3.Connection, *, name: str | None = None, size_class: str | None = None,
            fiche: int | None = None, since: datetime | str | None = None, until: datetime | str | None = None,
            limit: int | None = None) -> list[Summary]:
    """Assessment entries, newest first: `name` is a piece of the company name (any case),
    `fiche` a planned fiche, `since` and `until` bound the time (inclusive, UTC)."""
    low, high = _iso(since), _iso(until)
    needle = name.casefold() if name else None
    counts = dict(conn.execute("SELECT target, COUNT(*) FROM entries WHERE kind = 'override' GROUP BY target"))
    out = []
    for seq, entry_id, created_at, company, size, plan, digest, digest_hash in conn.execute(
            "SELECT seq, id, created_at, name, size_class, plan, digest, hash FROM entries "
            "WHERE kind = 'assessment' ORDER BY seq DESC"):
        if low and created_at < low or high and created_at > high:
            continue
        if size_class and size != size_class:
            continue
        if needle and (company is None or needle not in company.casefold()):
            continue
        planned = tuple(orjson.loads(plan)) if plan else ()
        if fiche is not None and fiche not in planned:
            continue
        out.append(Summary(seq, entry_id, created_at, company, size, planned, counts.get(entry_id, 0), digest,
                           digest_hash))
        if limit is not None and len(out) >= limit:
            break
    return out


def iter_export(conn: sqlite3.Connection) -> Iterator[bytes]:
    """Every entry as one line of canonical JSON (seq, id, created_at, kind, payload, prev_hash,
    hash), in chain order, from one read snapshot: the hash of a line is sha256 of the
    canonical JSON of its id, created_at, kind, payload and prev_hash."""
    conn.execute("BEGIN")
    try:
        for seq, entry_id, created_at, kind, payload, prev_hash, digest in conn.execute(
                "SELECT seq, id, created_at, kind, payload, prev_hash, hash FROM entries ORDER BY seq"):
            first = canonical_json({"created_at": created_at, "hash": digest, "id": entry_id, "kind": kind})
            tail = canonical_json({"prev_hash": prev_hash, "seq": seq})
            yield first[:-1].encode() + b',"payload":' + unpack(payload) + b"," + tail[1:].encode() + b"\n"
    finally:
        conn.execute("COMMIT")
