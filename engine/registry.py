"""The assessment registry (contract §8): an append-only, hash-chained SQLite file.

One table of entries, in chain order (`seq` 1, 2, 3…). An entry is an assessment (the
record exactly as the face wrote it: the §4 result, words included) or a diagnostician's
override of one fiche's status for an earlier assessment; an override is an entry of its
own and never changes the assessment's. Each entry stores the SHA-256 of the previous one
(`prev_hash`) and its own hash over (id, created_at, kind, payload, prev_hash) — see
engine/chain.py — so `verify` finds the first entry whose content or link changed.

SQLite does the rest: WAL (readers never block the writer), a 30 s busy timeout, and
`BEGIN IMMEDIATE` around every append, so concurrent writers (processes, threads, batch
workers) take turns and each appends after the head it read (a record is sealed and
compressed before the lock, after the head as it then is, and built again under the lock
only when another writer came first). Appends are durable when they return
(synchronous=FULL) unless the registry is opened with `durable=False` (batch). Triggers
refuse UPDATE and DELETE and an INSERT that does not follow the last entry. Anyone
holding the file can drop the triggers: the chain detects tampering, it does not prevent it.

The schema version is `PRAGMA user_version` (this code reads version 1); the `meta` table
names the file a pnman registry. An assessment's payload is `{"index": {decision_digest,
name, plan, size_class}, "record": <the record>}`, an override's `{entry, fiche, status,
engine_status, reason, justification, by}`; payloads are stored zlib-compressed (their
hash is over the JSON itself). The columns `name`, `size_class`, `plan`, `digest` and
`target` are an index for `list`, copied from the payload and checked against it by `verify`.

For a web server: a `Registry` may be shared by threads (each thread gets its own
connection) and survives a fork (the child opens its own connections and never touches
the parent's).
"""
from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time as day_time, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping

import orjson

from pnman.knowledge.errors import InputError, PnmanError

from .chain import entry_hash, id_seq, new_id, pack, payload_bytes, timestamp, unpack
from .record import SCHEMA, canonical_json, seal
from .store import StoredRef

SCHEMA_VERSION = 1
APPLICATION = "pnman-registry"
FILE_NAME = "registry.sqlite3"
BUSY_TIMEOUT = 30.0                      # seconds a writer waits for another one
KINDS = ("assessment", "override")
OVERRIDE_STATUSES = ("eligible", "conditional", "ineligible")
MIN_JUSTIFICATION = 20                   # characters
MAX_TEXT = 5000                          # characters of a justification; a name has at most MAX_NAME
MAX_NAME = 200
TRIGGERS = ("entries_never_updated", "entries_never_deleted", "entries_follow_the_head")
MESSAGE_NO_UPDATE = "pnman registry: entries are append-only (never updated)"

STATEMENTS = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE entries (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('assessment', 'override')),
        payload BLOB NOT NULL,
        prev_hash TEXT UNIQUE,
        hash TEXT NOT NULL UNIQUE,
        name TEXT,
        size_class TEXT,
        plan TEXT,
        digest TEXT,
        target TEXT,
        CHECK ((seq = 1) = (prev_hash IS NULL))
    )""",
    "CREATE INDEX entries_target ON entries (target) WHERE target IS NOT NULL",
    f"""CREATE TRIGGER entries_never_updated BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_NO_UPDATE}'); END""",
    """CREATE TRIGGER entries_never_deleted BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'pnman registry: entries are append-only (never deleted)'); END""",
    """CREATE TRIGGER entries_follow_the_head BEFORE INSERT ON entries
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM entries)
          OR NEW.prev_hash IS NOT (SELECT hash FROM entries ORDER BY seq DESC LIMIT 1)
          OR EXISTS (SELECT 1 FROM entries WHERE id = NEW.id OR hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT, 'pnman registry: an entry must follow the last one'); END""",
    """CREATE TRIGGER meta_never_updated BEFORE UPDATE ON meta
        BEGIN SELECT RAISE(ABORT, 'pnman registry: meta is append-only'); END""",
    """CREATE TRIGGER meta_never_deleted BEFORE DELETE ON meta
        BEGIN SELECT RAISE(ABORT, 'pnman registry: meta is append-only'); END""",
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COLUMNS = "seq, id, created_at, kind, payload, prev_hash, hash, name, size_class, plan, digest, target"


def default_path(explicit: str | os.PathLike | None = None) -> Path:
    """Where the registry is: `explicit` (--registry), else $PNMAN_REGISTRY, else
    registry.sqlite3 in $PNMAN_HOME or the platform's data folder (platformdirs)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("PNMAN_REGISTRY"):
        return Path(os.environ["PNMAN_REGISTRY"]).expanduser()
    if os.environ.get("PNMAN_HOME"):
        return Path(os.environ["PNMAN_HOME"]).expanduser() / FILE_NAME
    import platformdirs
    return Path(platformdirs.user_data_dir("pnman", appauthor=False)) / FILE_NAME


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
        raise InputError(f"expected a date (2025-03-01) or an ISO date and time (2025-03-01T14:30), found {value!r}",
                         key=key) from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _iso(when: datetime | str | None) -> str | None:
    if when is None:
        return None
    if isinstance(when, str):
        when = parse_when(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


# -- what the registry returns ---------------------------------------------------------------

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

    @property
    def record(self) -> dict | None:
        """An assessment's record, as recorded (its payload is {"index": …, "record": …})."""
        return self.payload["record"] if self.kind == "assessment" and self.payload else None

    def as_dict(self) -> dict:
        return {"seq": self.seq, "id": self.id, "created_at": self.created_at, "kind": self.kind,
                "hash": self.hash, "prev_hash": self.prev_hash}


@dataclass(frozen=True)
class Override:
    """A diagnostician's override of one fiche's status for an assessment entry."""
    id: str                 # the override's own entry id
    entry: str              # the assessment entry it overrides
    fiche: int
    status: str
    engine_status: str      # the engine's status in that record
    reason: str
    justification: str
    by: str
    at: str                 # when it was recorded (the override entry's created_at)
    hash: str

    def as_dict(self) -> dict:
        return {"id": self.id, "entry": self.entry, "fiche": self.fiche, "status": self.status,
                "engine_status": self.engine_status, "reason": self.reason, "justification": self.justification,
                "by": self.by, "at": self.at, "hash": self.hash}


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
        return {**self.entry.as_dict(), "record": self.record,
                "overrides": [o.as_dict() for o in self.overrides],
                "effective_overrides": {str(n): o.status for n, o in sorted(self.effective().items())}}


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


# -- the registry ------------------------------------------------------------------------------

class Registry:
    """The registry file. `Registry.open(path)`; every method may be called from any thread.

    `durable` (the default): each append is on disk when it returns (synchronous=FULL). A
    batch of many appends may pass False (synchronous=NORMAL): a crash of the process still
    loses nothing committed, a power cut may lose the last appends; the chain stays whole
    either way."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True, durable: bool = True):
        self.path = Path(path)
        self._create = create
        self._durable = durable
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pid = os.getpid()
        self._connections: list[sqlite3.Connection] = []
        self._inherited: list[sqlite3.Connection] = []     # a parent's, after a fork: never used nor closed
        self._conn()            # open now: a missing, foreign or newer file is said at once

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True, durable: bool = True) -> Registry:
        """The registry at `path` (default_path() when None); `create=False` refuses a missing file."""
        return cls(default_path(path), create=create, durable=durable)

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
        if os.getpid() == self._pid:
            for conn in connections:
                conn.close()

    # -- connections ---------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:            # forked: the parent's connections are not ours
            with self._lock:
                self._inherited.extend(self._connections)
                self._connections = []
                self._local = threading.local()
                self._pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise InputError("is a folder, expected a registry file (registry.sqlite3)", file=str(path))
        if not path.exists():
            if not self._create:
                raise InputError("no registry here yet ('pnman assess PROFILE --record' creates it; "
                                 "--registry or PNMAN_REGISTRY names another)", file=str(path))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"its folder cannot be created ({exc.strerror})", file=str(path)) from None
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise InputError(f"cannot be opened as a registry ({exc})", file=str(path)) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            self._check_schema(conn)
            conn.execute(f"PRAGMA synchronous = {'FULL' if self._durable else 'NORMAL'}")
        except PnmanError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise InputError(f"is not a pnman registry ({exc})", file=str(path)) from None
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                raise InputError("is an SQLite database but not a pnman registry", file=str(self.path))
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:        # nobody created it while this one waited
                    if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                        raise InputError("is an SQLite database but not a pnman registry", file=str(self.path))
                    for statement in STATEMENTS:
                        conn.execute(statement)
                    conn.execute("INSERT INTO meta (key, value) VALUES ('application', ?), ('created_at', ?)",
                                 (APPLICATION, timestamp()))
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    version = SCHEMA_VERSION
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        if version != SCHEMA_VERSION:
            raise InputError(f"registry schema version {version} is unknown: this pnman reads version "
                             f"{SCHEMA_VERSION} (a newer pnman wrote it?)", file=str(self.path))
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or row[0] != APPLICATION:
            raise InputError("is an SQLite database but not a pnman registry", file=str(self.path))
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))

    # -- appending -------------------------------------------------------------------------------
    def _append(self, builders: list, *, prepare: bool = False) -> list[Entry]:
        """Append entries, in one transaction taken with BEGIN IMMEDIATE: each builder gets the
        new entry's id and the head it follows (and the connection, to read what it checks)
        and returns (kind, payload, index columns).

        With `prepare` (the first builder reads nothing), the first entry is built before the
        lock, after the head as it is then; under the lock, when the head is still that one,
        only its time and hash remain to do (the lock is held a fraction of a millisecond
        instead of the millisecond or two that sealing and compressing a record take); when
        another writer came first, it is built again there."""
        conn = self._conn()
        prepared = None
        try:
            if prepare and builders:
                row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                seq, head = (row[0], row[1]) if row else (0, None)
                prepared = (seq, head, *self._build(builders[0], new_id(seq + 1), head, None))
            _begin_immediate(conn)
        except sqlite3.Error as exc:
            raise InputError(f"cannot be written ({exc})", file=str(self.path)) from None
        try:
            row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            seq, head = (row[0], row[1]) if row else (0, None)
            entries = []
            for position, build in enumerate(builders):
                if position == 0 and prepared is not None and prepared[:2] == (seq, head):
                    built = prepared[2:]
                else:
                    built = self._build(build, new_id(seq + 1), head, conn)
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
            _rollback(conn)
            raise InputError(f"cannot be written ({exc})", file=str(self.path)) from None
        except BaseException:
            _rollback(conn)
            raise
        return entries

    @staticmethod
    def _build(build, entry_id: str, head: str | None, conn) -> tuple:
        kind, payload, index = build(entry_id, head, conn)
        data = payload_bytes(payload)
        return entry_id, kind, payload, index, data, pack(data)

    def append_assessment(self, record: Mapping[str, Any]) -> Entry:
        """Append an assessment record; the entry's `payload` is the record as stored: the
        same with `registry: {entry, head}` (sealed again when it had a record hash)."""
        return self.append_assessments([record])[0]

    def append_assessments(self, records: Iterable[Mapping[str, Any]]) -> list[Entry]:
        """Append several records in one transaction (one wait for the lock, one commit)."""
        records = [_checked_record(r) for r in records]
        return self._append([_assessment_builder(r) for r in records], prepare=True) if records else []

    def add_override(self, entry_id: str, *, fiche: int, status: str, reason: str, justification: str, by: str,
                     reasons: Iterable[str] | None = None) -> Override:
        """Append a diagnostician's override of fiche `fiche` of assessment `entry_id`. Refused
        (InputError, exit 2): an unknown entry or fiche, a status other than eligible,
        conditional or ineligible, or the status in force already, an unknown reason code, a
        justification under MIN_JUSTIFICATION characters, no name."""
        if reasons is None:
            from pnman.knowledge.overrides import override_reasons
            reasons = override_reasons()
        reasons = tuple(reasons)
        if status not in OVERRIDE_STATUSES:
            raise InputError(f"expected one of {', '.join(OVERRIDE_STATUSES)}, found {status!r}", key="status")
        if reason not in reasons:
            raise InputError(f"unknown reason code {reason!r}; expected one of {', '.join(reasons)}", key="reason")
        justification = _text(justification, "justification", MAX_TEXT)
        if len(justification) < MIN_JUSTIFICATION:
            raise InputError(f"expected at least {MIN_JUSTIFICATION} characters saying why, found "
                             f"{len(justification)}", key="justification")
        by = _text(by, "by", MAX_NAME)
        if not by:
            raise InputError("expected the name of the person who overrides", key="by")
        if isinstance(fiche, bool) or not isinstance(fiche, int):
            raise InputError(f"expected a fiche number, found {fiche!r}", key="fiche")

        def build(new_id_: str, head: str | None, conn: sqlite3.Connection):
            target = self._assessment_row(conn, entry_id)
            record = _payload(target)["record"]
            statuses = {f.get("fiche"): f.get("status") for f in record.get("fiches", []) if isinstance(f, dict)}
            if fiche not in statuses:
                numbers = sorted(n for n in statuses if isinstance(n, int))
                span = f"{numbers[0]} to {numbers[-1]}" if numbers else "none"
                raise InputError(f"entry {entry_id} has no fiche {fiche} (its record has fiches {span})", key="fiche")
            engine_status = statuses[fiche]
            current = engine_status
            for row in conn.execute("SELECT payload FROM entries WHERE kind = 'override' AND target = ? "
                                    "ORDER BY seq", (entry_id,)):
                earlier = orjson.loads(unpack(row[0]))
                if earlier.get("fiche") == fiche:
                    current = earlier.get("status")
            if status == current:
                raise InputError(f"fiche {fiche} of entry {entry_id} is already {status}"
                                 f"{' by the engine' if current == engine_status else ' by an override'}; "
                                 "an override changes a status", key="status")
            payload = {"entry": entry_id, "fiche": fiche, "status": status, "engine_status": engine_status,
                       "reason": reason, "justification": justification, "by": by}
            return "override", payload, (None, None, None, None, entry_id)

        entry = self._append([build])[0]
        return _override(entry.id, entry.created_at, entry.hash, entry.payload)

    # -- reading ---------------------------------------------------------------------------------
    def head(self) -> str | None:
        """The hash of the last entry (None for an empty registry)."""
        row = self._conn().execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def count(self, kind: str | None = None) -> int:
        conn = self._conn()
        if kind is None:
            return conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM entries WHERE kind = ?", (kind,)).fetchone()[0]

    def _row(self, conn: sqlite3.Connection, entry_id: str) -> sqlite3.Row | tuple:
        row = conn.execute(f"SELECT {COLUMNS} FROM entries WHERE id = ?", (str(entry_id),)).fetchone()
        if row is None:
            hint = " (an entry id is <number>-<6 hex>, as 'pnman registry list' shows it)" \
                if id_seq(str(entry_id)) is None else ""
            raise InputError(f"no entry {entry_id!r} in the registry{hint}", file=str(self.path), key="ID")
        return row

    def _assessment_row(self, conn: sqlite3.Connection, entry_id: str):
        row = self._row(conn, entry_id)
        if row[3] != "assessment":
            raise InputError(f"entry {entry_id} is an override of entry {row[11]}, not an assessment",
                             file=str(self.path), key="ID")
        return row

    def get(self, entry_id: str) -> Entry:
        row = self._row(self._conn(), entry_id)
        return Entry(row[0], row[1], row[2], row[3], row[6], row[5], _payload(row))

    def overrides(self, entry_id: str) -> tuple[Override, ...]:
        """The overrides of an assessment entry, oldest first."""
        rows = self._conn().execute(f"SELECT {COLUMNS} FROM entries WHERE kind = 'override' AND target = ? "
                                    "ORDER BY seq", (str(entry_id),)).fetchall()
        return tuple(_override(row[1], row[2], row[6], _payload(row)) for row in rows)

    def show(self, entry_id: str) -> Shown:
        """An assessment entry: its record as recorded, and its overrides apart."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            row = self._assessment_row(conn, entry_id)
            entry = Entry(row[0], row[1], row[2], row[3], row[6], row[5], _payload(row))
            overrides = self.overrides(entry.id)
        finally:
            conn.execute("COMMIT")
        return Shown(entry, entry.record, overrides)

    def list(self, *, name: str | None = None, size_class: str | None = None, fiche: int | None = None,
             since: datetime | str | None = None, until: datetime | str | None = None,
             limit: int | None = None) -> list[Summary]:
        """Assessment entries, newest first: `name` is a piece of the company name (any case),
        `fiche` a planned fiche, `since` and `until` bound the time (inclusive, UTC)."""
        low, high = _iso(since), _iso(until)
        needle = name.casefold() if name else None
        conn = self._conn()
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

    def override_summary(self, listed: Iterable[Summary] | None = None) -> dict:
        """Per fiche, over the listed assessments (all by default): how many have an override in
        force on it, the rate, and the reasons and status changes behind them."""
        listed = list(self.list() if listed is None else listed)
        ids = {s.id for s in listed}
        latest: dict[tuple[str, int], dict] = {}
        for (payload,) in self._conn().execute("SELECT payload FROM entries WHERE kind = 'override' ORDER BY seq"):
            data = orjson.loads(unpack(payload))
            if data.get("entry") in ids:
                latest[(data["entry"], data["fiche"])] = data
        fiches: dict[int, dict] = {}
        for (_, number), data in sorted(latest.items(), key=lambda kv: kv[0][1]):
            if data["status"] == data["engine_status"]:
                continue
            item = fiches.setdefault(number, {"fiche": number, "overridden": 0, "reasons": Counter(),
                                              "changes": Counter()})
            item["overridden"] += 1
            item["reasons"][data["reason"]] += 1
            item["changes"][f"{data['engine_status']}>{data['status']}"] += 1
        total = len(listed)
        return {"assessments": total,
                "fiches": [dict(item, rate=item["overridden"] / total if total else 0.0,
                                reasons=dict(item["reasons"].most_common()),
                                changes=dict(item["changes"].most_common()))
                           for _, item in sorted(fiches.items())]}

    # -- verify and export -------------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """Walk the chain in order, in one read snapshot: every position present, every id naming
        its position, every link to the previous hash, every hash over its content, every
        index column as its payload says, every override naming an earlier assessment. Stops
        at the first entry that does not hold. Also says whether the triggers are still there."""
        started = time.perf_counter()
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            missing = tuple(t for t in TRIGGERS if t not in present)
            total = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            last = conn.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            kinds: dict[str, str] = {}
            previous: str | None = None
            checked = 0
            problem = None
            for row in conn.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq"):
                problem = _check_row(row, checked + 1, previous, kinds)
                if problem is not None:
                    break
                checked += 1
                kinds[row[1]] = row[3]
                previous = row[6]
        finally:
            conn.execute("COMMIT")
        return VerifyReport(total, checked, last[0] if last else None, previous, problem, missing,
                            time.perf_counter() - started)

    def iter_export(self) -> Iterator[bytes]:
        """Every entry as one line of canonical JSON (seq, id, created_at, kind, payload, prev_hash,
        hash), in chain order, from one read snapshot: the hash of a line is sha256 of the
        canonical JSON of its id, created_at, kind, payload and prev_hash."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            for seq, entry_id, created_at, kind, payload, prev_hash, digest in conn.execute(
                    "SELECT seq, id, created_at, kind, payload, prev_hash, hash FROM entries ORDER BY seq"):
                head = canonical_json({"created_at": created_at, "hash": digest, "id": entry_id, "kind": kind})
                tail = canonical_json({"prev_hash": prev_hash, "seq": seq})
                yield head[:-1].encode() + b',"payload":' + unpack(payload) + b"," + tail[1:].encode() + b"\n"
        finally:
            conn.execute("COMMIT")

    def export(self, fp: IO[bytes]) -> int:
        """Write every entry as JSON lines to a binary file; returns how many."""
        count = 0
        for line in self.iter_export():
            fp.write(line)
            count += 1
        return count


class RegistryStore:
    """The registry as a RecordStore: `save(record)` appends it and gives back the record as
    stored. Opens the file on first use in each process (batch workers are forked)."""

    def __init__(self, path: str | os.PathLike | None = None, *, durable: bool = True):
        self.path = default_path(path)
        self.durable = durable
        self._registry: Registry | None = None
        self._pid: int | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None or self._pid != os.getpid():
            self._registry, self._pid = Registry(self.path, durable=self.durable), os.getpid()
        return self._registry

    def save(self, record: Mapping[str, Any]) -> StoredRef:
        entry = self.registry.append_assessment(record)
        return StoredRef(entry.id, entry.prev_hash, str(self.path), entry.record)

    def close(self) -> None:
        if self._registry is not None and self._pid == os.getpid():
            self._registry.close()
        self._registry = None


# -- helpers -----------------------------------------------------------------------------------

def _retry(action, seconds: float = BUSY_TIMEOUT):
    """`action` again while the database is locked (what a busy timeout does not cover, e.g.
    switching to WAL while another process creates the file)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT for the writer before. Not with SQLite's own
    busy handler, whose sleeps grow to 100 ms: writers that take turns every millisecond or
    two (batch workers) would spend most of their time asleep. Short, jittered sleeps hand
    the lock on at once."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    delay = 0.0002
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.5, 0.001)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _text(value: Any, key: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, found {type(value).__name__}", key=key)
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("expected text (it holds a lone surrogate)", key=key) from None
    if any(not (ch.isprintable() or ch in "\n\t") for ch in value):
        raise InputError("expected text without control characters", key=key)
    if len(value) > limit:
        raise InputError(f"expected at most {limit} characters, found {len(value)}", key=key)
    return value


def _checked_record(record: Mapping[str, Any]) -> dict:
    if not isinstance(record, Mapping) or record.get("schema") != SCHEMA:
        raise InputError(f"expected an assessment record (schema '{SCHEMA}')", key="record")
    for key, kind in (("profile", dict), ("fiches", list), ("plan", list)):
        if not isinstance(record.get(key), kind):
            raise InputError(f"expected {kind.__name__}", key=f"record.{key}")
    return dict(record)


def _assessment_index(record: Mapping[str, Any]) -> dict:
    """What `list` shows and filters on, from the record: kept in the hashed payload beside the
    record, and in the index columns (checked against it by `verify`)."""
    name = record["profile"].get("name")
    planned = list(dict.fromkeys(s["fiche"] for s in record["plan"]
                                 if isinstance(s, dict) and s.get("kind") == "fiche"))
    return {"decision_digest": record.get("decision_digest"), "name": name if isinstance(name, str) else None,
            "plan": planned, "size_class": record.get("size_class")}


def _columns(index: Mapping[str, Any]) -> tuple:
    """The index columns (name, size_class, plan, digest, target) of an assessment's index."""
    return index["name"], index["size_class"], canonical_json(index["plan"]), index["decision_digest"], None


def _index_prefix(name, size_class, plan, digest) -> bytes | None:
    """How an assessment's payload starts when its index columns are right: its canonical JSON
    is {"index": {…}, "record": {…}}, the index first (sorted keys). Checked without parsing
    the record: `verify` costs a decompression and a hash, not a parse of 100 kB."""
    try:
        planned = orjson.loads(plan)
    except (orjson.JSONDecodeError, TypeError):
        return None
    index = {"decision_digest": digest, "name": name, "plan": planned, "size_class": size_class}
    return canonical_json({"index": index})[:-1].encode("utf-8") + b',"record":{'


def _assessment_builder(record: dict):
    def build(entry_id: str, head: str | None, conn) -> tuple[str, dict, tuple]:
        stored = {k: v for k, v in record.items() if k not in ("registry", "_source")}
        stored["registry"] = {"entry": entry_id, "head": head}
        if "record_hash" in record:
            stored = seal(stored)
        index = _assessment_index(stored)
        return "assessment", {"index": index, "record": stored}, _columns(index)
    return build


def _payload(row) -> dict:
    return orjson.loads(unpack(row[4]))


def _override(entry_id: str, at: str, digest: str, data: dict) -> Override:
    return Override(entry_id, data["entry"], data["fiche"], data["status"], data["engine_status"], data["reason"],
                    data["justification"], data["by"], at, digest)


def _check_row(row, expected: int, previous: str | None, kinds: dict[str, str]) -> Problem | None:
    seq, entry_id, created_at, kind, blob, prev_hash, digest, name, size, plan, digest_col, target = row
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
    if kind not in KINDS or not isinstance(created_at, str) or entry_hash(entry_id, created_at, kind, data,
                                                                          prev_hash) != digest:
        return Problem(seq, entry_id, "hash")
    if kind == "assessment":
        prefix = _index_prefix(name, size, plan, digest_col)
        if target is not None or prefix is None or not data.startswith(prefix):
            return Problem(seq, entry_id, "index")
    else:
        try:
            payload = orjson.loads(data)
            columns = (None, None, None, None, payload["entry"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return Problem(seq, entry_id, "payload")
        if columns != (name, size, plan, digest_col, target):
            return Problem(seq, entry_id, "index")
    if kind == "override" and kinds.get(target) != "assessment":
        return Problem(seq, entry_id, "target", str(target))
    return None
