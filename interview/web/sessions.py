"""Web interview sessions: one SQLite database (WAL) for every server on one PNMAN_HOME.

A session is addressed by an unguessable id (its link is the way back to it) and survives
a restart. A request holds its session alone, in every process on the data folder (a
thread lock, then flock on one of 64 stripe files in `sessions.locks/`, released by the
system if the process dies), compares the version it holds in memory with
the database's, and at its end commits what it wrote in one short write transaction (BEGIN
IMMEDIATE; every write bumps the version): two `pnman serve` processes, or `--workers N`,
show the same answers and never fork a session, and the database's one write lock is not
held while an answer is evaluated (it was, and two workers then answered fewer requests
than one). A request that must not wait (an API answer taken on the event loop) takes its
session only if free (`hold_if_free`) and its commit only if the write lock is
(`impatient`: StoreBusy at once). A committed answer is on disk (synchronous=FULL)
before it is acknowledged, so kill -9 loses none, and SQLite leaves no temporary file
behind. The database is created 0600 (its -wal and -shm files take the same mode) without
touching the process's umask.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import sqlite3
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import orjson

from pnman.knowledge.errors import InputError, Phrase, os_reason

from ..questionnaire.session import data_dir

SCHEMA = "pnman-web-session/1"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
DB_NAME = "sessions.sqlite3"
BUSY_MS = 15000
LOCK_STRIPES = 64          # session locks, shared by ids: nothing is kept per unknown id
LOCKS_DIR = "sessions.locks"   # one file per stripe, locked by the process whose request holds it
TABLE = """CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
    status TEXT NOT NULL, data TEXT NOT NULL, result TEXT)"""


class StoreUnavailable(Exception):
    """The sessions cannot be written (a full disk, a read-only or broken database): the
    server says so (503) instead of failing."""


class StoreBusy(StoreUnavailable):
    """Another connection held the database's write lock longer than this one would wait."""


def _unavailable(exc: sqlite3.Error) -> StoreUnavailable:
    busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return (StoreBusy if busy else StoreUnavailable)(str(exc))


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def web_sessions_dir() -> Path:
    return data_dir("web-sessions")


@dataclass
class WebState:
    """The interview's state (machine.State), one row of the sessions table."""
    id: str
    store: Any = field(repr=False, default=None)
    lang: str = "fr"
    answers: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    status: str = "in_progress"
    undone: dict[str, Any] = field(default_factory=dict)   # answers taken back by « back », offered again
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    face: str = "program"              # "person" (the pages) or "program" (the JSON API)
    version: int = 0

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "id": self.id, "lang": self.lang, "status": self.status,
                "created": self.created, "updated": self.updated, "asked": list(self.asked),
                "answers": dict(self.answers), "undone": dict(self.undone), "face": self.face}

    def save(self) -> None:
        self.updated = _now()
        self.store.write(self)


def _state(store, session_id: str, version: int, text: str) -> WebState | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    return WebState(id=session_id, store=store, lang=data.get("lang", "fr"), answers=data.get("answers", {}),
                    asked=data.get("asked", []), status=data.get("status", "in_progress"),
                    undone=data.get("undone", {}), created=data.get("created", _now()),
                    updated=data.get("updated", _now()), face=data.get("face", "program"), version=version)


class SessionStore:
    """The sessions of every server on one data folder: created, found by id, written in
    transactions; a live Interview per session is kept in memory while its version holds."""

    def __init__(self, directory: Path, cache_size: int = 512):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / DB_NAME
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))   # owner-only from its first byte
        except OSError as exc:
            raise InputError(Phrase("web_sessions.uncreatable", reason=os_reason(exc)),
                             file=str(directory)) from None
        self.directory = directory
        self._stripes = directory / LOCKS_DIR
        try:
            self._stripes.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise InputError(Phrase("web_sessions.uncreatable", reason=os_reason(exc)),
                             file=str(directory)) from None
        self._stripe_files: dict[int, int] = {}    # stripe -> this process's open lock file
        self._local = threading.local()
        self._locks = [threading.RLock() for _ in range(LOCK_STRIPES)]
        self._guard = threading.Lock()
        self._cache: OrderedDict[str, Any] = OrderedDict()   # id -> the live Interview, for speed
        self._cache_size = cache_size
        try:
            conn = self._conn()
            conn.execute(TABLE)
        except sqlite3.DatabaseError as exc:
            raise InputError(Phrase("web_sessions.foreign", reason=str(exc)), file=str(self.path)) from None
        self._import_files()

    # -- the connection of this thread ------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_MS / 1000, check_same_thread=True)
            conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: what the block writes is committed together, or not at all."""
        conn = self._conn()
        if conn.in_transaction:          # nested: the outer transaction commits
            yield
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _unavailable(exc) from None
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise _unavailable(exc) from None

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """The block's writes are kept and committed together at its end, in one transaction
        (none if the block fails): the write lock is held for the writes, not for the work."""
        if getattr(self._local, "pending", None) is not None:     # nested: the outer block commits
            yield
            return
        self._local.pending = []
        try:
            yield
            pending = self._local.pending
        finally:
            self._local.pending = None
        if not pending:
            return
        with self.transaction():
            for sql, params, session_id in pending:
                if self._run(sql, params).rowcount != 1 and session_id is not None:
                    self.forget(session_id)
                    raise StoreUnavailable(f"the session {session_id[:6]}… was changed meanwhile by another server")

    def _write(self, sql: str, params: tuple, session_id: str | None = None) -> None:
        """A write now, or at the end of the `deferred` block it is made in; `session_id`: the
        statement must change exactly that session's row (its version is the one read)."""
        pending = getattr(self._local, "pending", None)
        if pending is not None:
            pending.append((sql, params, session_id))
        elif self._run(sql, params).rowcount != 1 and session_id is not None:
            self.forget(session_id)
            raise StoreUnavailable(f"the session {session_id[:6]}… was changed meanwhile by another server")

    def _run(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        try:
            return self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise _unavailable(exc) from None

    # -- sessions -----------------------------------------------------------------------------
    def create(self, lang: str, face: str) -> WebState:
        state = WebState(id=secrets.token_urlsafe(16), store=self, lang=lang, face=face, version=1)
        self._run("INSERT INTO sessions (id, version, created, updated, status, data) VALUES (?, 1, ?, ?, ?, ?)",
                  (state.id, state.created, state.updated, state.status, self._text(state)))
        return state

    @staticmethod
    def _text(state: WebState) -> str:
        return json.dumps(state.to_json(), ensure_ascii=False)

    def write(self, state: WebState) -> None:
        """The state's new version; refused when another server wrote the session since it was
        read (the request then fails and the next one reads the session again)."""
        self._write("UPDATE sessions SET version = version + 1, updated = ?, status = ?, data = ? "
                    "WHERE id = ? AND version = ?",
                    (state.updated, state.status, self._text(state), state.id, state.version), state.id)
        state.version += 1

    def version(self, session_id: str) -> int | None:
        row = self._run("SELECT version FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else row[0]

    def load(self, session_id: str) -> WebState | None:
        if not SESSION_ID.match(session_id):
            return None
        row = self._run("SELECT version, data FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else _state(self, session_id, row[0], row[1])

    def exists(self, session_id: str) -> bool:
        return bool(SESSION_ID.match(session_id)) and self.version(session_id) is not None

    def save_result(self, session_id: str, data: dict) -> None:
        self._write("UPDATE sessions SET result = ? WHERE id = ?", (orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode(), session_id))

    def load_result(self, session_id: str) -> dict | None:
        row = self._run("SELECT result FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            data = json.loads(row[0])
        except ValueError:
            return None
        return data if isinstance(data, dict) and isinstance(data.get("record"), dict) else None

    @contextlib.contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        """The session to this request alone: this process's lock for it, then the same stripe's
        byte of the lock file, which every process on the data folder takes (one of a fixed
        few: an id costs no memory; the system releases it when a process dies)."""
        with self._hold(session_id, wait=True):
            yield

    @contextlib.contextmanager
    def hold_if_free(self, session_id: str) -> Iterator[bool]:
        """`hold`, when no other request holds the session (in any process): True, held until
        the block ends; False at once otherwise (nothing held, nothing waited for)."""
        with self._hold(session_id, wait=False) as held:
            yield held

    @contextlib.contextmanager
    def _hold(self, session_id: str, wait: bool) -> Iterator[bool]:
        """Both holds: whether the session is held (always, when waiting for it)."""
        stripe = zlib.crc32(session_id.encode("utf-8", "replace")) % LOCK_STRIPES
        lock = self._locks[stripe]
        if not lock.acquire(blocking=wait):
            yield False
            return
        try:
            held = self._local.__dict__.setdefault("held", set())
            if stripe in held:          # re-entered by this thread: the outer hold has it
                yield True
                return
            handle = self._stripe_file(stripe)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:     # another process holds it (never when waiting)
                yield False
                return
            held.add(stripe)
            try:
                yield True
            finally:
                held.discard(stripe)
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            lock.release()

    @contextlib.contextmanager
    def impatient(self) -> Iterator[None]:
        """In the block, this thread's connection does not wait for another's write lock:
        StoreBusy at once instead."""
        conn = self._conn()
        conn.execute("PRAGMA busy_timeout=0")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")

    def _stripe_file(self, stripe: int) -> int:
        """The stripe's lock file, opened once by this process (under the stripe's thread lock).
        flock, not POSIX record locks: those belong to the process, so the kernel took two
        threads waiting on two stripes for a deadlock between processes (EDEADLK)."""
        handle = self._stripe_files.get(stripe)
        if handle is None:
            try:
                handle = os.open(self._stripes / f"{stripe:02d}", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StoreUnavailable(f"the session lock cannot be opened ({exc.strerror})") from None
            self._stripe_files[stripe] = handle
        return handle

    # -- the live interviews of this process ---------------------------------------------------
    def cached(self, session_id: str):
        with self._guard:
            live = self._cache.get(session_id)
            if live is not None:
                self._cache.move_to_end(session_id)
            return live

    def keep(self, session_id: str, live) -> None:
        with self._guard:
            self._cache[session_id] = live
            self._cache.move_to_end(session_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self, session_id: str) -> None:
        with self._guard:
            self._cache.pop(session_id, None)

    def finished(self) -> list[WebState]:
        """Every finished interview, newest first (the diagnostician's list until a registry
        is in use)."""
        rows = self._run("SELECT id, version, data FROM sessions WHERE status = 'completed' "
                         "ORDER BY updated DESC, id").fetchall()
        return [s for s in (_state(self, i, v, d) for i, v, d in rows) if s is not None]

    # -- sessions of earlier versions (one JSON file each) -------------------------------------
    def _import_files(self) -> None:
        """Sessions kept as files by earlier versions move into the database once (their links
        keep working); temporary files a killed writer left are removed."""
        for path in self.directory.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                path.unlink()
        for path in sorted(self.directory.glob("*.json")):
            if path.name.endswith(".result.json") or not SESSION_ID.match(path.stem):
                continue
            try:
                text = path.read_text(encoding="utf-8")
                state = _state(self, path.stem, 1, text)
                result = path.with_name(f"{path.stem}.result.json")
                kept = result.read_text(encoding="utf-8") if result.is_file() else None
            except (OSError, UnicodeDecodeError):
                continue
            if state is None:
                continue
            with self.transaction():
                self._run("INSERT OR IGNORE INTO sessions (id, version, created, updated, status, data, result) "
                          "VALUES (?, 1, ?, ?, ?, ?, ?)",
                          (state.id, state.created, state.updated, state.status, self._text(state), kept))
            for done in (path, path.with_name(f"{path.stem}.result.json")):
                with contextlib.suppress(OSError):
                    done.unlink()
