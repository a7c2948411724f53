"""Registry files as earlier versions of pnman wrote them, for the tests that read or
migrate them."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import record_of
from pnman.records import schema
from pnman.records.registry import Registry
from pnman.records.schema import COLUMNS

PROFILES = [{"employees": 12 + n, "goals": ["network"], "name": f"Entreprise {n}"} for n in range(3)]


def schema_1_registry(path: Path, kb, *, triggers: bool = True) -> list[tuple]:
    """A registry of three assessments as schema 1 wrote it (no `source`, no checkpoint kind),
    its triggers dropped when not `triggers`; its rows."""
    with Registry.open(path) as registry:
        for profile in PROFILES:
            registry.append_assessment(record_of(profile, kb, lang="fr"))
    conn = sqlite3.connect(path, isolation_level=None)
    rows = conn.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall()
    conn.execute("BEGIN")
    for name in schema.TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE entries")
    conn.execute(schema._TABLE_V1)
    conn.executemany(f"INSERT INTO entries VALUES ({', '.join('?' * 12)})", [r[:12] for r in rows])
    conn.execute("CREATE INDEX entries_target ON entries (target) WHERE target IS NOT NULL")
    if triggers:
        for sql in schema._TRIGGERS:
            conn.execute(sql)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()            # the last connection: the file is whole, no -wal beside it
    assert not Path(f"{path}-wal").exists()
    return rows
