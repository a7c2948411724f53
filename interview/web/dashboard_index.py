"""The dashboard's view of the registry's index (pnman.records.figures_index): the index lives
in the registry file, kept by every append in its own transaction, so a dashboard request
only reads — SQL aggregates over a few plain tables, never a record parsed. An index not
built yet (a registry from before it) is built by `pnman registry index` or as `pnman
serve` starts, with its progress shown; meanwhile the figures cover what it holds and
`lag()` says how many entries they leave out.

A connection that only reads, opened for one answer (its queries see one state) and closed.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

from pnman.records import figures_index
from pnman.records.figures_index import NO_SIZE, step_entry  # noqa: F401 - the dashboard's names
from pnman.records.schema import connect

# The names the dashboard's SQL reads, over the registry's index tables (or, with no index
# there yet, over empty ones of the same shape).
VIEWS = {"assessments": "index_assessments", "fiche_status": "index_fiche_status", "overrides": "index_overrides"}


class DashboardIndex:
    """The index of one registry file, read by the server's threads one at a time."""

    def __init__(self, registry: Path):
        self.registry = Path(registry)
        self.lock = threading.Lock()

    def close(self) -> None:
        """Nothing stays open between two readings."""

    @contextlib.contextmanager
    def reading(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """A connection that reads the index, and how many entries of the chain the index does
        not hold. Opened for one answer and closed after it: nothing of a registry is held
        between requests (a file replaced at the path is the one read next)."""
        with self.lock:
            if not self.registry.exists():
                conn, behind = _empty(), 0
            else:
                conn = connect(self.registry, durable=False, create=False, write=False, prepare=_views)
                behind = figures_index.lag(conn)
            try:
                yield conn, behind
            finally:
                conn.close()


def _views(conn: sqlite3.Connection) -> None:
    """Temporary views named as the dashboard reads, over the index — or empty tables when
    the registry has no index yet (its figures are then zero, and the lag the whole chain)."""
    present = figures_index.indexed(conn) is not None
    for name, table in VIEWS.items():
        if present:
            conn.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM main.{table}")
    if not present:
        _empty_tables(conn)


def _empty_tables(conn: sqlite3.Connection) -> None:
    for statement in figures_index.TABLES:
        if statement.startswith("CREATE TABLE"):
            name = statement.split("EXISTS ", 1)[1].split(" ", 1)[0]
            short = {v: k for k, v in VIEWS.items()}.get(name)
            if short is not None:
                conn.execute(statement.replace(f"IF NOT EXISTS {name}", f"IF NOT EXISTS temp.{short}"))


def _empty() -> sqlite3.Connection:
    """No registry yet: the same names, empty."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    with contextlib.suppress(sqlite3.Error):
        _empty_tables(conn)
    return conn
