"""The accounts of the people who see many companies, in one SQLite file (contract §11).

`accounts.sqlite3` in the data folder (`--accounts PATH` or `PNMAN_ACCOUNTS` for another)
holds the accounts (argon2id password hashes), the API tokens (SHA-256 of a 256-bit
random token: never the token), the web sign-in sessions (SHA-256 of the cookie), the
failed sign-ins that throttling counts, and the log of who did what, append-only (triggers
refuse UPDATE and DELETE). Several `pnman serve` processes share it (WAL, busy timeout).
The file is created 0600 at the first account; a server with no file has no account.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from pnman.knowledge.errors import InputError, Phrase, os_reason

from .passwords import hash_password, password_matches
from .roles import ADMIN, AUDITOR, DIAGNOSTICIAN, ROLES  # noqa: F401 (the store's callers import them from here)

FILE_NAME = "accounts.sqlite3"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
TOKEN_PREFIX = "pnman_"
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, last_login TEXT)""",
    """CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES accounts(name),
        created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS logins (hash TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES accounts(name),
        created_at TEXT NOT NULL, last_seen TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS failures (at TEXT NOT NULL, name TEXT NOT NULL, address TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS failures_at ON failures (at)",
    "CREATE TABLE IF NOT EXISTS blocks (kind TEXT NOT NULL, value TEXT NOT NULL, until TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, account TEXT NOT NULL,
        address TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')""",
    """CREATE TRIGGER IF NOT EXISTS log_never_updated BEFORE UPDATE ON log
        BEGIN SELECT RAISE(ABORT, 'pnman accounts: the log is append-only (never updated)'); END""",
    """CREATE TRIGGER IF NOT EXISTS log_never_deleted BEFORE DELETE ON log
        BEGIN SELECT RAISE(ABORT, 'pnman accounts: the log is append-only (never deleted)'); END""",
)


def now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def default_path(explicit: str | os.PathLike | None = None) -> Path:
    """`explicit` (--accounts), else $PNMAN_ACCOUNTS, else accounts.sqlite3 in $PNMAN_HOME
    or the platform's data folder."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("PNMAN_ACCOUNTS"):
        return Path(os.environ["PNMAN_ACCOUNTS"]).expanduser()
    if os.environ.get("PNMAN_HOME"):
        return Path(os.environ["PNMAN_HOME"]).expanduser() / FILE_NAME
    import platformdirs
    return Path(platformdirs.user_data_dir("pnman", appauthor=False)) / FILE_NAME


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    active: bool = True
    created_at: str = ""
    last_login: str | None = None
    local: bool = False            # the loopback visitor of a server with no account

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "active": self.active, "created_at": self.created_at,
                "last_login": self.last_login}


@dataclass(frozen=True)
class LogLine:
    seq: int
    at: str
    account: str
    address: str
    action: str
    detail: str

    def as_dict(self) -> dict:
        return {"seq": self.seq, "at": self.at, "account": self.account, "address": self.address,
                "action": self.action, "detail": self.detail}


class AccountStore:
    """Accounts, tokens, sign-in sessions, failures and the log, one connection a thread."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._local = threading.local()
        self._ready = False

    # -- the file ----------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def _conn(self, create: bool = False) -> sqlite3.Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if not self.exists():
            if not create:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))   # owner-only from the start
            except OSError as exc:
                raise InputError(Phrase("users.uncreatable", reason=os_reason(exc)), file=str(self.path)) from None
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=True)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            if not self._ready:
                for statement in SCHEMA:
                    conn.execute(statement)
                self._ready = True
        except sqlite3.DatabaseError as exc:
            raise InputError(Phrase("users.foreign", reason=str(exc)), file=str(self.path)) from None
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn(create=True)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self._conn()
        return [] if conn is None else conn.execute(sql, params).fetchall()

    # -- accounts ----------------------------------------------------------------------------
    def has_accounts(self) -> bool:
        """Whether an active account exists (none: the server serves loopback only)."""
        return bool(self._read("SELECT 1 FROM accounts WHERE active = 1 LIMIT 1"))

    def add(self, name: str, role: str, password: str) -> Account:
        check_name(name)
        if role not in ROLES:
            raise InputError(Phrase("users.role", allowed=", ".join(ROLES), found=repr(role)), key="--role")
        check_password(password)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone():
                raise InputError(Phrase("users.exists", name=name), key="NAME")
            created = _iso(now())
            conn.execute("INSERT INTO accounts (name, role, password, created_at) VALUES (?, ?, ?, ?)",
                         (name, role, hash_password(password), created))
        return Account(name, role, True, created)

    def get(self, name: str) -> Account | None:
        rows = self._read("SELECT name, role, active, created_at, last_login FROM accounts WHERE name = ?", (name,))
        return Account(rows[0][0], rows[0][1], bool(rows[0][2]), rows[0][3], rows[0][4]) if rows else None

    def existing(self, name: str) -> Account:
        account = self.get(name)
        if account is None:
            raise InputError(Phrase("users.unknown", name=name), key="NAME")
        return account

    def list(self) -> list[Account]:
        return [Account(n, r, bool(a), c, last) for n, r, a, c, last in
                self._read("SELECT name, role, active, created_at, last_login FROM accounts ORDER BY name")]

    def disable(self, name: str) -> None:
        """The account can no longer sign in; its sessions and tokens end now."""
        self.existing(name)
        with self._write() as conn:
            conn.execute("UPDATE accounts SET active = 0 WHERE name = ?", (name,))
            conn.execute("DELETE FROM logins WHERE name = ?", (name,))
            conn.execute("DELETE FROM tokens WHERE name = ?", (name,))

    def set_password(self, name: str, password: str) -> None:
        """A new password; the account's open sessions end (they were opened with the old one)."""
        self.existing(name)
        check_password(password)
        with self._write() as conn:
            conn.execute("UPDATE accounts SET password = ? WHERE name = ?", (hash_password(password), name))
            conn.execute("DELETE FROM logins WHERE name = ?", (name,))

    def new_token(self, name: str) -> str:
        """A new API token for the account, returned once; only its SHA-256 is kept."""
        account = self.existing(name)
        if not account.active:
            raise InputError(Phrase("users.is_disabled", name=name), key="NAME")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write() as conn:
            conn.execute("INSERT INTO tokens (hash, name, created_at) VALUES (?, ?, ?)",
                         (digest(token), name, _iso(now())))
        return token

    def by_token(self, token: str) -> Account | None:
        rows = self._read("SELECT a.name FROM tokens t JOIN accounts a ON a.name = t.name "
                          "WHERE t.hash = ? AND a.active = 1", (digest(token),))
        return self.get(rows[0][0]) if rows else None

    # -- signing in --------------------------------------------------------------------------
    def throttled(self, name: str, address: str) -> bool:
        """Whether this name or this address is blocked: 5 failures within 15 minutes block it
        for the 15 minutes that follow the fifth."""
        rows = self._read("SELECT 1 FROM blocks WHERE until > ? AND ((kind = 'name' AND value = ?) "
                          "OR (kind = 'address' AND value = ?)) LIMIT 1", (_iso(now()), name, address))
        return bool(rows)

    def check(self, name: str, password: str, address: str) -> Account | None:
        """The active account this name and password open, or None (a failure, counted).
        An unknown name costs the same hashing as a known one."""
        rows = self._read("SELECT password, active FROM accounts WHERE name = ?", (name,))
        stored = rows[0][0] if rows else None
        good = password_matches(stored, password) and bool(rows and rows[0][1])
        if not good:
            moment = now()
            since, until = _iso(moment - THROTTLE_WINDOW), _iso(moment + THROTTLE_WINDOW)
            with self._write() as conn:
                conn.execute("INSERT INTO failures (at, name, address) VALUES (?, ?, ?)", (_iso(moment), name, address))
                for kind, value in (("name", name), ("address", address)):
                    count = conn.execute(f"SELECT COUNT(*) FROM failures WHERE at > ? AND {kind} = ?",
                                         (since, value)).fetchone()[0]
                    if count >= THROTTLE_FAILURES:
                        conn.execute("INSERT INTO blocks (kind, value, until) VALUES (?, ?, ?)", (kind, value, until))
            return None
        return self.get(name)

    def open_session(self, name: str) -> str:
        """A new sign-in session: the cookie's value, returned once (its SHA-256 is kept)."""
        token = secrets.token_urlsafe(32)
        when = _iso(now())
        with self._write() as conn:
            conn.execute("INSERT INTO logins (hash, name, created_at, last_seen) VALUES (?, ?, ?, ?)",
                         (digest(token), name, when, when))
            conn.execute("UPDATE accounts SET last_login = ? WHERE name = ?", (when, name))
        return token

    def session(self, token: str, idle: timedelta, longest: timedelta = timedelta(hours=12)) -> Account | None:
        """The account of a sign-in session still alive (used within `idle`, opened within
        `longest`); its last use moves to now. An expired session is removed."""
        if not token or len(token) > 100:
            return None
        rows = self._read("SELECT l.name, l.created_at, l.last_seen FROM logins l JOIN accounts a ON a.name = l.name "
                          "WHERE l.hash = ? AND a.active = 1", (digest(token),))
        if not rows:
            return None
        name, created, seen = rows[0]
        moment = now()
        if moment - datetime.fromisoformat(seen) > idle or moment - datetime.fromisoformat(created) > longest:
            self.close_session(token)
            return None
        if (moment - datetime.fromisoformat(seen)).total_seconds() >= 30:     # not one write per request
            with self._write() as conn:
                conn.execute("UPDATE logins SET last_seen = ? WHERE hash = ?", (_iso(moment), digest(token)))
        return self.get(name)

    def close_session(self, token: str) -> None:
        if self._conn() is not None:
            with self._write() as conn:
                conn.execute("DELETE FROM logins WHERE hash = ?", (digest(token),))

    # -- the log -----------------------------------------------------------------------------
    def log(self, account: str, address: str, action: str, detail: str = "") -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO log (at, account, address, action, detail) VALUES (?, ?, ?, ?, ?)",
                         (_iso(now()), account, address, action, detail))

    def log_lines(self, limit: int | None = None) -> list[LogLine]:
        sql = "SELECT seq, at, account, address, action, detail FROM log ORDER BY seq"
        if limit:
            sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) ORDER BY seq"
        return [LogLine(*row) for row in self._read(sql)]


def check_name(name: str) -> None:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise InputError(Phrase("users.name", found=repr(name)), key="NAME")


def check_password(password: str) -> None:
    if len(password) < 12:
        raise InputError(Phrase("users.short", found=len(password)), key="password")
    if len(password) > 1024:
        raise InputError(Phrase("users.long"), key="password")
