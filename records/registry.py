"""The assessment registry (contract §8): an append-only, hash-chained SQLite file.

One table of entries, in chain order (`seq` 1, 2, 3…). An entry is an assessment (the
record exactly as the face wrote it: the §4 result, words included), a diagnostician's
override of one fiche's status for an earlier assessment (an entry of its own: it never
changes the assessment's), or a signed checkpoint of the head (§13, checkpoints.py). Each entry stores the SHA-256 of the previous one
(`prev_hash`) and its own hash over (id, created_at, kind, payload, prev_hash) — see
chain.py — so `verify` finds the first entry whose content or link changed.

`Registry` holds the connections (one a thread, new ones after a fork) and hands each job
to its module: schema.py (the file, its schema and migrations), append.py, chain.py
(hashes, verify), queries.py (get, show, list, export), overrides.py, checkpoints.py.
A missing file is created at the first append only: opening one to read is refused, and
opening one to record creates nothing until something is recorded. Reading goes through a
read-only connection (a thread's writer once it has one): only writing makes or migrates.

For a web server: a `Registry` may be shared by threads (each thread gets its own
connection) and survives a fork (the child opens its own connections and never touches
the parent's).
"""
from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping

from pnman.knowledge.errors import InputError, Phrase, os_reason

from . import append, chain, checkpoints, figures_index, overrides, queries
from .chain import Problem, VerifyReport  # noqa: F401 (what verify returns)
from .entries import Entry
from .overrides import MIN_JUSTIFICATION, OVERRIDE_STATUSES, Override  # noqa: F401
from .queries import Shown, Summary, parse_when  # noqa: F401
from .checkpoints import Checkpoint, CheckpointProblem
from .schema import (COLUMNS, FILE_NAME, KINDS, SCHEMA_VERSION, TRIGGERS, TRIGGERS_GONE, check_file,  # noqa: F401
                     connect, default_path, schema_version)


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
        if check_file(self.path) or not create:
            self._conn()        # open now: a missing, foreign or newer file is said at once
        else:                   # created at the first append: its folder is checked now
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(Phrase("folder_uncreatable", reason=os_reason(exc)), file=str(self.path)) from None

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

    def exists(self) -> bool:
        """Whether the file is there (a registry opened to record has none before its first append)."""
        return self.path.exists()

    def _conn(self, *, write: bool = False) -> sqlite3.Connection:
        if os.getpid() != self._pid:            # forked: the parent's connections are not ours
            with self._lock:
                self._inherited.extend(self._connections)
                self._connections = []
                self._local = threading.local()
                self._pid = os.getpid()
        local = self._local
        conn = getattr(local, "writer", None)
        if conn is None and not write:
            conn = getattr(local, "reader", None)
            if conn is not None and local.older and schema_version(conn) != local.older:
                conn = None         # a writer migrated the file since: read it as it now is
        if conn is None:
            conn = connect(self.path, durable=self._durable, create=self._create and write, write=write)
            if write:
                local.writer = conn
            else:
                local.reader = conn
                version = schema_version(conn)
                local.older = version if version != SCHEMA_VERSION else None
            with self._lock:
                self._connections.append(conn)
        return conn

    # -- appending -------------------------------------------------------------------------------
    def append_assessment(self, record: Mapping[str, Any], *, source: Mapping[str, Any] | None = None,
                          replaces: str | None = None) -> Entry:
        """Append an assessment record; the entry's `payload` is the record as stored: the
        same with `registry: {entry, head, checkpoint?, replaces?}`. A `source` (a portfolio's
        SHA-256 and row) in the chain already appends nothing: its entry comes back,
        `recorded_before`."""
        return append.append_assessments(self._conn(write=True), self.path, [record],
                                         sources=[source], replaces=replaces)[0]

    def append_assessments(self, records: Iterable[Mapping[str, Any]], *,
                           sources: Iterable[Mapping[str, Any] | None] | None = None,
                           parts: Iterable[Mapping | None] | None = None) -> list[Entry]:
        """Append several records in one transaction (one wait for the lock, one commit);
        `parts`: each one's engine.record.kept_parts (append.append_assessments)."""
        return append.append_assessments(self._conn(write=True), self.path, records, sources=sources, parts=parts)

    def add_checkpoint(self, private_key) -> Entry:
        """Append a checkpoint of the head, signed with `private_key` (checkpoints.load_private)."""
        return checkpoints.add_checkpoint(self._conn(write=True), self.path, private_key)

    def add_override(self, entry_id: str, *, fiche: int, status: str, reason: str, justification: str, by: str,
                     reasons: Iterable[str] | None = None) -> Override:
        """Append a diagnostician's override (overrides.add_override says what is refused)."""
        return overrides.add_override(self._conn(write=True), self.path, entry_id, fiche=fiche, status=status, reason=reason,
                                      justification=justification, by=by, reasons=reasons)

    def build_index(self, progress=None, *, rebuild: bool = False) -> int:
        """Make the dashboard's index (figures_index) and bring it to the head — once, for a
        registry made before it; appends keep it since. `progress(done, total)`."""
        try:
            return figures_index.catch_up(self._conn(write=True), progress, rebuild=rebuild)
        except sqlite3.Error as exc:
            raise InputError(Phrase("registry.write_failed", reason=str(exc)), file=str(self.path)) from None

    def index_lag(self) -> int:
        """Entries the dashboard's index does not hold yet (0 once built: appends keep it)."""
        return figures_index.lag(self._conn())

    # -- reading ---------------------------------------------------------------------------------
    def head(self) -> str | None:
        """The hash of the last entry (None for an empty registry)."""
        return queries.head(self._conn())

    def latest_checkpoint(self) -> Checkpoint | None:
        return checkpoints.latest(self._conn())

    def checkpoints(self) -> list[Checkpoint]:
        return checkpoints.checkpoints(self._conn())

    def check_checkpoints(self, public_key) -> tuple[list[Checkpoint], CheckpointProblem | None]:
        """Every checkpoint signed by `public_key` and still holding, or the first that does not."""
        return checkpoints.check_checkpoints(self._conn(), public_key)

    def source_entry(self, source: Mapping[str, Any]) -> str | None:
        """The id of the entry recorded from this source, or None (a missing file holds none)."""
        if not self.path.exists():
            return None
        return queries.source_entry(self._conn(), append.checked_source(source))

    def source_entries(self, portfolio: str, rows: Iterable[int]) -> dict[int, str]:
        """Of these rows of a portfolio ("sha256:…"), those recorded, and their entries' ids."""
        if not self.path.exists():
            return {}
        sources = [append.checked_source({"portfolio": portfolio, "row": row}) for row in rows]
        return queries.source_entries(self._conn(), sources)

    def holds_hash(self, digest: str) -> bool:
        """Whether `digest` is the hash of an entry of the chain (`verify --head`)."""
        return queries.holds_hash(self._conn(), digest)

    def count(self, kind: str | None = None) -> int:
        return queries.count(self._conn(), kind)

    def get(self, entry_id: str) -> Entry:
        return queries.get(self._conn(), self.path, entry_id)

    def overrides(self, entry_id: str) -> tuple[Override, ...]:
        """The overrides of an assessment entry, oldest first."""
        return queries.overrides(self._conn(), entry_id)

    def show(self, entry_id: str) -> Shown:
        """An assessment entry: its record as recorded, and its overrides apart."""
        return queries.show(self._conn(), self.path, entry_id)

    def list(self, *, name: str | None = None, size_class: str | None = None, fiche: int | None = None,
             since: datetime | str | None = None, until: datetime | str | None = None,
             limit: int | None = None) -> list[Summary]:
        """Assessment entries, newest first (queries.listing says how they are filtered)."""
        return queries.listing(self._conn(), name=name, size_class=size_class, fiche=fiche, since=since,
                               until=until, limit=limit)

    def override_summary(self, listed: Iterable[Summary] | None = None) -> overrides.OverrideSummary:
        """Per fiche, over the listed assessments (all by default): overrides in force, rates, reasons."""
        return overrides.override_summary(self._conn(), self.list() if listed is None else listed)

    # -- verify and export -------------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """The chain walked in order (chain.verify); stops at the first entry that does not hold."""
        return chain.verify(self._conn(), COLUMNS, TRIGGERS, KINDS, TRIGGERS_GONE)

    def iter_export(self) -> Iterator[bytes]:
        """Every entry as one line of canonical JSON, in chain order, from one read snapshot."""
        return queries.iter_export(self._conn())

    def export(self, fp: IO[bytes]) -> int:
        """Write every entry as JSON lines to a binary file; returns how many."""
        count = 0
        for line in self.iter_export():
            fp.write(line)
            count += 1
        return count
