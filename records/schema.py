"""The registry file: where it is, its SQLite schema, opening it, and the migrations.

The schema version is `PRAGMA user_version`; the `meta` table names the file a pnman
registry. A file that is not one — another SQLite database, any other file, an empty file
— is refused (exit 2), never written over. A missing file is created at the first append
only: reading commands refuse it, and a face that may record opens it without creating
it until it records.

Version 1: the entries table, its index, the triggers that refuse UPDATE, DELETE and an
INSERT that does not follow the last entry. Version 2 adds the `source` column (where an
assessment came from: a portfolio's SHA-256 and row, or a web session) and the `checkpoint`
kind (with an index to find the latest checkpoint at once). Opening a version-1 file to write migrates it (the entries and their hashes are
left as they are: the chain never covered the columns that are added); opening one to read
(list, show, verify, export) reads it as it is, read-only, through a view.

SQLite does the rest: WAL (readers never block the writer), a busy timeout, and
`BEGIN IMMEDIATE` around every append, so concurrent writers take turns.
"""
from __future__ import annotations

import os
import random
import sqlite3
import stat
import time
from pathlib import Path

from pnman.knowledge.errors import InputError, Phrase, PnmanError, os_reason

from .chain import timestamp

SCHEMA_VERSION = 2
APPLICATION = "pnman-registry"
FILE_NAME = "registry.sqlite3"
BUSY_TIMEOUT = 30.0                      # seconds a writer waits for another one
KINDS = ("assessment", "override", "checkpoint")
TRIGGERS = ("entries_never_updated", "entries_never_deleted", "entries_follow_the_head")
TRIGGERS_GONE = "triggers_missing_before_migration"     # meta: the triggers a migration found gone
MESSAGE_NO_UPDATE = "pnman registry: entries are append-only (never updated)"

_TABLE_V1 = """CREATE TABLE entries (
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
    )"""
_TRIGGERS = (
    f"""CREATE TRIGGER entries_never_updated BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_NO_UPDATE}'); END""",
    """CREATE TRIGGER entries_never_deleted BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'pnman registry: entries are append-only (never deleted)'); END""",
    """CREATE TRIGGER entries_follow_the_head BEFORE INSERT ON entries
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM entries)
          OR NEW.prev_hash IS NOT (SELECT hash FROM entries ORDER BY seq DESC LIMIT 1)
          OR EXISTS (SELECT 1 FROM entries WHERE id = NEW.id OR hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT, 'pnman registry: an entry must follow the last one'); END""",
)
STATEMENTS = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    _TABLE_V1.replace("('assessment', 'override')", "('assessment', 'override', 'checkpoint')")
             .replace("target TEXT,", "target TEXT,\n        source TEXT,"),
    "CREATE INDEX entries_target ON entries (target) WHERE target IS NOT NULL",
    "CREATE UNIQUE INDEX entries_source ON entries (source) WHERE source IS NOT NULL",
    "CREATE INDEX entries_checkpoints ON entries (seq) WHERE kind = 'checkpoint'",
    *_TRIGGERS,
    """CREATE TRIGGER meta_never_updated BEFORE UPDATE ON meta
        BEGIN SELECT RAISE(ABORT, 'pnman registry: meta is append-only'); END""",
    """CREATE TRIGGER meta_never_deleted BEFORE DELETE ON meta
        BEGIN SELECT RAISE(ABORT, 'pnman registry: meta is append-only'); END""",
)
# The dashboard's index (figures_index.py): derived tables, not covered by the chain, made
# with every new file (an older one gets them when its index is first built).
INDEX_TABLES = (
    "CREATE TABLE IF NOT EXISTS index_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS index_assessments (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, created_at TEXT NOT NULL, day TEXT NOT NULL,
        name TEXT, size_class TEXT NOT NULL, edition TEXT, steps TEXT NOT NULL, statuses TEXT NOT NULL,
        investment_min INTEGER NOT NULL, investment_max INTEGER NOT NULL,
        days_min REAL NOT NULL, days_max REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS index_assessments_day ON index_assessments (day, size_class)",
    """CREATE TABLE IF NOT EXISTS index_fiche_status (
        day TEXT NOT NULL, size_class TEXT NOT NULL, fiche INTEGER NOT NULL, status TEXT NOT NULL,
        planned INTEGER NOT NULL, companies INTEGER NOT NULL,
        PRIMARY KEY (day, size_class, fiche, status, planned)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS index_overrides (
        target INTEGER NOT NULL, fiche INTEGER NOT NULL, seq INTEGER NOT NULL,
        status TEXT NOT NULL, engine_status TEXT NOT NULL, PRIMARY KEY (target, fiche)) WITHOUT ROWID""",
    "INSERT OR IGNORE INTO index_state VALUES ('seq', 0)",
    "INSERT OR IGNORE INTO index_state VALUES ('version', 1)",      # figures_index.VERSION
)
# Version 1 → 2: the kind check widens (SQLite cannot alter a CHECK: the table is copied,
# triggers dropped around the copy and made again), `source` is added with its index.
MIGRATE_1_TO_2 = (
    "DROP TRIGGER IF EXISTS entries_never_updated",
    "DROP TRIGGER IF EXISTS entries_never_deleted",
    "DROP TRIGGER IF EXISTS entries_follow_the_head",
    "ALTER TABLE entries RENAME TO entries_v1",
    STATEMENTS[1],
    "INSERT INTO entries (seq, id, created_at, kind, payload, prev_hash, hash, name, size_class, plan, digest, "
    "target) SELECT seq, id, created_at, kind, payload, prev_hash, hash, name, size_class, plan, digest, target "
    "FROM entries_v1 ORDER BY seq",
    "DROP TABLE entries_v1",
    STATEMENTS[2],
    STATEMENTS[3],
    STATEMENTS[4],
    *_TRIGGERS,
)
COLUMNS = "seq, id, created_at, kind, payload, prev_hash, hash, name, size_class, plan, digest, target, source"


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


def check_file(path: Path) -> bool:
    """Whether a registry file is there (False: none yet). A folder, an empty file or one that
    is not a regular file is refused: it is never written over; one that is not an SQLite
    database is refused when opened (not_a_database).

    The file is never opened here: closing any descriptor of a file drops every POSIX lock
    the process holds on it, SQLite's included — another process could then take the file
    for unused and delete its WAL under this one's connections."""
    if path.is_dir():
        raise InputError(Phrase("registry.folder"), file=str(path))
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise InputError(Phrase("unreadable", reason=os_reason(exc)), file=str(path)) from None
    if not stat.S_ISREG(status.st_mode):
        raise InputError(Phrase("registry.not_sqlite"), file=str(path))
    if not status.st_size:
        raise InputError(Phrase("registry.empty_file"), file=str(path))
    return True


def not_a_database(exc: sqlite3.Error) -> bool:
    """Whether SQLite found the file is no database (its first page is not SQLite's)."""
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB" or "not a database" in str(exc)


def connect(path: Path, *, durable: bool, create: bool, write: bool = True, prepare=None) -> sqlite3.Connection:
    """A connection to the registry at `path`, its schema checked (and made when `create` and
    the file is new). A missing file without `create` is refused (InputError).

    Without `write`, the connection only reads (_read_only): nothing is made or migrated,
    so reading works on read-only storage and leaves an older file as it is (what `verify`
    reports of it included); an older schema is read through a view of this version's
    columns (read_older)."""
    if not check_file(path):
        if not create or not write:
            raise InputError(Phrase("registry.none_yet"), file=str(path))
        _create_file(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False) \
            if write else _read_only(path)
    except sqlite3.Error as exc:
        if not_a_database(exc):
            raise InputError(Phrase("registry.not_sqlite"), file=str(path)) from None
        raise InputError(Phrase("registry.unopenable", reason=str(exc)), file=str(path)) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        if write:
            check_schema(conn, path)
        else:
            check_schema_to_read(conn, path)
            if prepare is not None:     # the reader's own temporary views, made before it may only read
                prepare(conn)
            conn.execute("PRAGMA query_only = ON")
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    except PnmanError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        if not_a_database(exc):
            raise InputError(Phrase("registry.not_sqlite"), file=str(path)) from None
        raise InputError(Phrase("registry.foreign", reason=str(exc)), file=str(path)) from None
    return conn


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads (query_only is set once its schema is checked): opened as
    writers open the file, so that it shares their WAL index, else read-only, else — on
    read-only storage, where SQLite cannot make the -shm file a WAL file is read through —
    as immutable, when no -wal file says a writer is at work."""
    uri = path.resolve().as_uri()
    wal = Path(f"{path}-wal")
    for mode in ("rw", "ro", "ro&immutable=1"):
        if mode.endswith("immutable=1") and wal.exists() and wal.stat().st_size:
            break
        conn = sqlite3.connect(f"{uri}?mode={mode}", timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False, uri=True)
        try:
            conn.execute("PRAGMA user_version").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            error = exc
            if "readonly" not in str(exc) and "unable to open" not in str(exc):
                raise
    raise error


def _create_file(path: Path) -> None:
    """Make a new registry file whole or not at all: its schema is written in a file of its own
    beside it, which is then linked to `path` unless another writer made one first. So an
    empty file at `path` is never pnman's own half-made registry, and is refused."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Phrase("folder_uncreatable", reason=os_reason(exc)), file=str(path)) from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{random.getrandbits(32):08x}.new")
    try:
        conn = sqlite3.connect(str(temporary), isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            _under_lock(conn, lambda v: _create(conn, path, v))
        finally:
            conn.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass            # another writer made it first: theirs is the registry
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except sqlite3.Error as exc:
        raise InputError(Phrase("uncreatable", reason=str(exc)), file=str(path)) from None
    except OSError as exc:
        raise InputError(Phrase("uncreatable", reason=os_reason(exc)), file=str(path)) from None
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Make the schema in a new file, migrate an older one, refuse a foreign or newer one."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            raise InputError(Phrase("registry.foreign_sqlite"), file=str(path))
        retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        version = _under_lock(conn, lambda v: _create(conn, path, v))
    elif version < SCHEMA_VERSION:
        _check_application(conn, path)
        version = _under_lock(conn, lambda v: _migrate(conn, v))
    if version != SCHEMA_VERSION:
        raise InputError(Phrase("registry.schema_version", version=version, known=SCHEMA_VERSION), file=str(path))
    _check_application(conn, path)
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))


def check_schema_to_read(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of a file opened read-only, refusing a foreign or newer one; an
    older one is read as it is (read_older). Nothing is written."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:        # no pnman schema: pnman makes a new file whole (_create_file), so not ours
        raise InputError(Phrase("registry.foreign_sqlite"), file=str(path))
    if version > SCHEMA_VERSION:
        raise InputError(Phrase("registry.schema_version", version=version, known=SCHEMA_VERSION), file=str(path))
    _check_application(conn, path)
    if version < SCHEMA_VERSION:
        read_older(conn, version)
    return version


def read_older(conn: sqlite3.Connection, version: int) -> None:
    """Read a version-1 file as this version: a view of its entries with this version's
    columns, in the connection's own temporary schema (the file is not touched), found
    before the file's table by every query that names `entries`."""
    if version == 1:
        conn.execute("CREATE TEMP VIEW entries AS SELECT seq, id, created_at, kind, payload, prev_hash, hash, name, "
                     "size_class, plan, digest, target, NULL AS source FROM main.entries")


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA main.user_version").fetchone()[0]


def _under_lock(conn: sqlite3.Connection, change) -> int:
    """Run `change(version)` in a write transaction, on the version as it is under the lock
    (another process may have made or migrated the schema while this one waited)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = change(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return version


def _create(conn: sqlite3.Connection, path: Path, version: int) -> int:
    if version != 0:
        return version
    if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
        raise InputError(Phrase("registry.foreign_sqlite"), file=str(path))
    for statement in (*STATEMENTS, *INDEX_TABLES):        # the dashboard's index, kept by every append
        conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('application', ?), ('created_at', ?)",
                 (APPLICATION, timestamp()))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return SCHEMA_VERSION


def _migrate(conn: sqlite3.Connection, version: int) -> int:
    """Bring an older file to this version, under the write lock (a writer only: reading never
    migrates). The triggers are made again around a table copy: those already missing are
    written in `meta` first (TRIGGERS_GONE), so `verify` still reports them afterwards."""
    if version == 1:
        present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        gone = [name for name in TRIGGERS if name not in present]
        if gone:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (TRIGGERS_GONE, ",".join(gone)))
        for statement in MIGRATE_1_TO_2:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 2")
        version = 2
    return version


def _check_application(conn: sqlite3.Connection, path: Path) -> None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    if row is None or row[0] != APPLICATION:
        raise InputError(Phrase("registry.foreign_sqlite"), file=str(path))


def retry(action, seconds: float = BUSY_TIMEOUT):
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


def begin_immediate(conn: sqlite3.Connection) -> None:
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


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
