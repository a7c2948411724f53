"""The dashboard's index of the registry (contract §15), kept in the registry file itself.

What the dashboard's figures need, as plain SQL columns: `index_assessments` (one row per
assessment entry: day, size class, edition, the plan's steps, the statuses, the totals),
`index_fiche_status` (companies per day, size class, fiche, status and planned-or-not) and
`index_overrides` (the override in force per assessment and fiche). Derived, never the
truth: the chain does not cover it, `pnman registry index --rebuild` makes it again.

It is always a prefix of the chain: `index_state.seq` is the last entry it holds, every
entry before it included. An append indexes its entries in its own transaction when the
index holds every entry before them (so concurrent appenders and a kill -9 leave it whole);
a registry made before the index, or appended to by an older pnman, is caught up once by
`catch_up` — `pnman registry index`, or `pnman serve` as it starts — with its progress
shown, never inside a web request. Until then the dashboard counts what the index holds
and says how many entries it has not counted yet.
"""
from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any, Callable, Mapping

import orjson

from .chain import id_seq, unpack
from .schema import INDEX_TABLES as TABLES, begin_immediate, rollback

NO_SIZE = "-"                 # the size class of a company outside the guide's classes
BATCH = 500                   # entries indexed per transaction when catching up
VERSION = 1                   # of what the tables hold: another version is made again, never read
NAMES = ("index_state", "index_assessments", "index_fiche_status", "index_overrides")
_UPSERT = ("INSERT INTO index_fiche_status VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, size_class, fiche, status, "
           "planned) DO UPDATE SET companies = companies + excluded.companies")


def step_entry(step: Mapping[str, Any]) -> list:
    """A fiche step of a plan as the index keeps it, `[fiche, part or null, optional]` (an
    optional step is left out of the minimum totals): what its budget under an edition needs,
    read back by position, never parsed."""
    return [step["fiche"], step.get("part") or None, bool(step.get("optional"))]


def indexed(conn: sqlite3.Connection) -> int | None:
    """The last entry the index holds (every one before it too), or None: no index here, or
    one of another VERSION (made again by catch_up)."""
    try:
        state = dict(conn.execute("SELECT key, value FROM index_state"))
    except sqlite3.OperationalError:        # no such table: a registry from before the index
        return None
    return state.get("seq", 0) if state.get("version") == VERSION else None


class Companies(Counter):
    """The companies the entries of one transaction add to each row of index_fiche_status,
    written together by `write` (one upsert a row, not one a fiche of every entry: a batch
    chunk's 64 assessments touch a few hundred rows, not 1,728)."""

    def write(self, conn: sqlite3.Connection) -> None:
        if self:
            conn.executemany(_UPSERT, [(*key, count) for key, count in self.items()])
            self.clear()


def add(conn: sqlite3.Connection, seq: int, entry_id: str, created_at: str, kind: str, payload: Mapping,
        companies: Companies | None = None) -> None:
    """Index one entry (in the caller's transaction); its companies per fiche and status are
    added to `companies`, for the caller to write before its commit, or written now."""
    if kind == "assessment":
        counted = Companies() if companies is None else companies
        _assessment(conn, seq, entry_id, created_at, payload["record"], counted)
        if companies is None:
            counted.write(conn)
    elif kind == "override":
        target = id_seq(str(payload.get("entry")))
        if target is not None:
            conn.execute("INSERT OR REPLACE INTO index_overrides VALUES (?, ?, ?, ?, ?)",
                         (target, payload["fiche"], seq, payload["status"], payload["engine_status"]))
    # other kinds (a checkpoint) carry no figure


def _present(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'index_state'").fetchone() is not None


def advance(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("UPDATE index_state SET value = ? WHERE key = 'seq'", (seq,))


def _assessment(conn: sqlite3.Connection, seq: int, entry_id: str, created_at: str, record: Mapping,
                companies: Companies) -> None:
    day = created_at[:10]
    size = record.get("size_class") or NO_SIZE
    steps = [step_entry(s) for s in record.get("plan", ()) if s["kind"] == "fiche"]
    planned = {s["fiche"] for s in record.get("plan", ()) if s["kind"] == "fiche"}
    fiches = [(f["fiche"], f["status"]) for f in record.get("fiches", ())]
    totals = record.get("totals") or {}
    investment = totals.get("investment_da_ht") or {"min": 0, "max": 0}
    days = totals.get("coaching_days") or {"min": 0, "max": 0}
    conn.execute("INSERT OR REPLACE INTO index_assessments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (seq, entry_id, created_at, day, (record.get("profile") or {}).get("name"), size,
                  record.get("edition") or "base", orjson.dumps(steps).decode(),
                  orjson.dumps({str(n): s for n, s in fiches}).decode(), investment["min"], investment["max"],
                  days["min"], days["max"]))
    companies.update([(day, size, n, s, int(n in planned)) for n, s in fiches])


class AppendHook:
    """For an append (under its lock): `hook(seq, id, created_at, kind, payload)` indexes each
    new entry when the index holds every entry before it; `hook.write()`, before the commit,
    writes the companies the entries added. The state is written with each entry, all in
    the append's transaction."""

    def __init__(self, conn: sqlite3.Connection, last: int):
        self.conn, self.last = conn, last
        self.companies = Companies()

    def __call__(self, seq: int, entry_id: str, created_at: str, kind: str, payload: Mapping) -> None:
        if self.last == seq - 1:
            add(self.conn, seq, entry_id, created_at, kind, payload, self.companies)
            advance(self.conn, seq)
            self.last = seq

    def write(self) -> None:
        self.companies.write(self.conn)


def append_hook(conn: sqlite3.Connection) -> AppendHook | None:
    """The index's hook for an append, or None when there is no index to keep."""
    last = indexed(conn)
    return None if last is None else AppendHook(conn, last)


def lag(conn: sqlite3.Connection) -> int:
    """Entries of the chain the index does not hold (all of them without an index)."""
    head = conn.execute("SELECT IFNULL(MAX(seq), 0) FROM entries").fetchone()[0]
    return head - (indexed(conn) or 0)


def catch_up(conn: sqlite3.Connection, progress: Callable[[int, int], None] | None = None, *,
             rebuild: bool = False) -> int:
    """Make the index (or, with `rebuild`, make it again) and bring it to the head: entries
    read and parsed outside the lock (they never change), written a BATCH at a time, each
    batch in a write transaction that first checks the index is still where it was read.
    `progress(done, total)` after each batch. Returns the entries indexed."""
    begin_immediate(conn)
    try:
        if rebuild or (indexed(conn) is None and _present(conn)):      # another version's: made again
            for name in NAMES:
                conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in TABLES:
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    done = 0
    while True:
        start = indexed(conn) or 0
        total = done + lag(conn)
        rows = conn.execute("SELECT seq, id, created_at, kind, payload FROM entries WHERE seq > ? ORDER BY seq "
                            "LIMIT ?", (start, BATCH)).fetchall()
        if not rows:
            return done
        parsed = [(seq, entry_id, created_at, kind, orjson.loads(unpack(blob)) if kind != "checkpoint" else {})
                  for seq, entry_id, created_at, kind, blob in rows]
        begin_immediate(conn)
        try:
            if indexed(conn) == start:      # else another process indexed them meanwhile: read again
                companies = Companies()
                for entry in parsed:
                    add(conn, *entry, companies)
                companies.write(conn)
                advance(conn, parsed[-1][0])
                done += len(parsed)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        if progress is not None:
            progress(done, max(total, done))
