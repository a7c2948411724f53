"""The dashboard's index of the registry: what its figures need, as plain SQL columns.

The registry keeps each record compressed in its chain (a record is read whole or not at
all); the dashboard's figures are SQL aggregates over this index instead, so a page over
100,000 assessments answers in well under a second. The index is derived, never the
truth: a file beside the registry (`registry.dashboard.sqlite3`; in memory when that
folder cannot be written), brought up to date before each figure by reading only the
entries appended since (the registry is append-only: entry `seq` never changes). When the
entry it last read is no longer the registry's (another registry at that path), it is
rebuilt from the start.

Tables: `assessments` (one row per assessment entry: day, size class, edition, the
plan's steps, the statuses, the totals), `fiche_status` (companies per day, size class,
fiche, status and planned-or-not: the share chart is a sum over a few thousand rows), and
`overrides` (the override in force per assessment and fiche, as the registry counts them).
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from pathlib import Path

import orjson

from pnman.records.chain import unpack
from pnman.knowledge.errors import InputError, Phrase

VERSION = "2"      # 2: a plan's steps kept as [fiche, part, optional], no longer as text
NO_SIZE = "-"                 # the size class of a company outside the guide's classes
BATCH = 2000                  # registry entries read per transaction of the index
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS assessments (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, created_at TEXT NOT NULL, day TEXT NOT NULL,
        name TEXT, size_class TEXT NOT NULL, edition TEXT, steps TEXT NOT NULL, statuses TEXT NOT NULL,
        investment_min INTEGER NOT NULL, investment_max INTEGER NOT NULL,
        days_min REAL NOT NULL, days_max REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS assessments_day ON assessments (day, size_class)",
    """CREATE TABLE IF NOT EXISTS fiche_status (
        day TEXT NOT NULL, size_class TEXT NOT NULL, fiche INTEGER NOT NULL, status TEXT NOT NULL,
        planned INTEGER NOT NULL, companies INTEGER NOT NULL,
        PRIMARY KEY (day, size_class, fiche, status, planned)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS overrides (
        target INTEGER NOT NULL, fiche INTEGER NOT NULL, seq INTEGER NOT NULL,
        status TEXT NOT NULL, engine_status TEXT NOT NULL, PRIMARY KEY (target, fiche)) WITHOUT ROWID""",
)


def index_path(registry: Path) -> Path:
    return registry.with_name(registry.stem + ".dashboard.sqlite3")


def step_entry(step: dict) -> list:
    """A fiche step of a plan as the index keeps it, `[fiche, part or null, optional]` (an
    optional step is left out of the minimum totals): what its budget under an edition needs,
    read back by position, never parsed."""
    return [step["fiche"], step.get("part") or None, bool(step.get("optional"))]


class DashboardIndex:
    """The index of one registry file, shared by the server's threads (one lock: a sync and
    the queries after it see one state)."""

    def __init__(self, registry: Path, path: Path | None = None):
        self.registry = Path(registry)
        self.path = path if path is not None else index_path(self.registry)
        self.lock = threading.Lock()
        self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        """The index file, made afresh when it is unusable (it is only a cache), or an index in
        memory when its folder cannot be written."""
        for attempt in ("file", "fresh", "memory"):
            if attempt == "fresh":
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            target = ":memory:" if attempt == "memory" else str(self.path)
            conn = None
            try:
                conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
                if attempt != "memory":
                    self._private()
                    conn.execute("PRAGMA journal_mode = WAL")
                for statement in SCHEMA:
                    conn.execute(statement)
                return conn
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
                if attempt == "memory":
                    raise
        raise AssertionError("unreachable")

    def _private(self) -> None:
        """The index holds what the registry holds (names, statuses): no one may read it who may
        not read the registry (its -wal and -shm files take the same permissions)."""
        try:
            mode = stat.S_IMODE(self.registry.stat().st_mode) & 0o666
        except OSError:
            mode = 0o600
        os.chmod(self.path, mode)

    def close(self) -> None:
        self.conn.close()

    # -- bringing it up to date ---------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _registry(self) -> sqlite3.Connection | None:
        if not self.registry.is_file():
            return None
        try:
            conn = sqlite3.connect(f"file:{self.registry}?mode=ro", uri=True)
            conn.execute("SELECT seq FROM entries LIMIT 1")
            return conn
        except sqlite3.Error as exc:
            raise InputError(Phrase("registry.unreadable", reason=str(exc)), file=str(self.registry)) from None

    def _reset(self) -> None:
        for table in ("meta", "assessments", "fiche_status", "overrides"):
            self.conn.execute(f"DELETE FROM {table}")

    def sync(self) -> int:
        """Read the entries appended since the last sync; how many were read."""
        source = self._registry()
        if source is None:
            with self.lock:
                self._reset()
            return 0
        try:
            with self.lock:
                last = int(self._meta("seq") or 0)
                if last:
                    row = source.execute("SELECT hash FROM entries WHERE seq = ?", (last,)).fetchone()
                    if row is None or row[0] != self._meta("hash") or self._meta("version") != VERSION:
                        self._reset()
                        last = 0
                read = 0
                while True:
                    rows = source.execute("SELECT seq, id, created_at, kind, payload, hash FROM entries "
                                          "WHERE seq > ? ORDER BY seq LIMIT ?", (last, BATCH)).fetchall()
                    if not rows:
                        return read
                    self.conn.execute("BEGIN")
                    try:
                        for seq, entry_id, created_at, kind, payload, digest in rows:
                            self._add(seq, entry_id, created_at, kind, payload)
                        last, head = rows[-1][0], rows[-1][5]
                        self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                              [("seq", str(last)), ("hash", head), ("version", VERSION)])
                        self.conn.execute("COMMIT")
                    except BaseException:
                        self.conn.execute("ROLLBACK")
                        raise
                    read += len(rows)
        except sqlite3.Error as exc:
            raise InputError(Phrase("registry.unreadable", reason=str(exc)), file=str(self.registry)) from None
        finally:
            source.close()

    def _add(self, seq: int, entry_id: str, created_at: str, kind: str, payload: bytes) -> None:
        if kind == "assessment":
            record = orjson.loads(unpack(payload))["record"]
            self._assessment(seq, entry_id, created_at, record)
        elif kind == "override":
            data = orjson.loads(unpack(payload))
            target = self.conn.execute("SELECT seq FROM assessments WHERE id = ?", (data["entry"],)).fetchone()
            if target is not None:
                self.conn.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?)",
                                  (target[0], data["fiche"], seq, data["status"], data["engine_status"]))
        # other kinds (a checkpoint, say) carry no assessment figure

    def _assessment(self, seq: int, entry_id: str, created_at: str, record: dict) -> None:
        day = created_at[:10]
        size = record.get("size_class") or NO_SIZE
        steps = [step_entry(s) for s in record.get("plan", ()) if s["kind"] == "fiche"]
        planned = {s["fiche"] for s in record.get("plan", ()) if s["kind"] == "fiche"}
        statuses = {str(f["fiche"]): f["status"] for f in record.get("fiches", ())}
        totals = record.get("totals") or {}
        investment = totals.get("investment_da_ht") or {"min": 0, "max": 0}
        days = totals.get("coaching_days") or {"min": 0, "max": 0}
        self.conn.execute("INSERT OR REPLACE INTO assessments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (seq, entry_id, created_at, day, (record.get("profile") or {}).get("name"), size,
                           record.get("edition") or "base", orjson.dumps(steps).decode(),
                           orjson.dumps(statuses).decode(), investment["min"], investment["max"],
                           days["min"], days["max"]))
        self.conn.executemany(
            "INSERT INTO fiche_status VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (day, size_class, fiche, status, planned) "
            "DO UPDATE SET companies = companies + 1",
            [(day, size, int(fiche), status, int(int(fiche) in planned)) for fiche, status in statuses.items()])
