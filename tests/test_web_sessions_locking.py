"""What a request holds while it works: its own session in every process on the data folder,
and not the database's one write lock (held, it made `--workers 2` slower than one worker:
each answer's evaluation waited for every other session's)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from pnman.interview.web.sessions import DB_NAME, LOCK_STRIPES, SessionStore

ROOT = Path(__file__).resolve().parents[1]


def two_sessions_in_other_stripes(store: SessionStore) -> tuple[str, str]:
    import zlib
    first = store.create("fr", "program").id
    while True:
        other = store.create("fr", "program").id
        if zlib.crc32(other.encode()) % LOCK_STRIPES != zlib.crc32(first.encode()) % LOCK_STRIPES:
            return first, other


def test_the_database_is_writable_by_others_while_a_request_works(tmp_path):
    store = SessionStore(tmp_path)
    first, _ = two_sessions_in_other_stripes(store)
    state = store.load(first)
    with store.hold(first), store.deferred():
        state.answers["employees"] = 12
        state.save()                                   # kept until the request ends
        other = sqlite3.connect(tmp_path / DB_NAME, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")              # another process's write is not kept waiting
        other.execute("ROLLBACK")
        assert store.load(first).answers == {}         # nothing committed yet
    assert store.load(first).answers == {"employees": 12}
    assert store.load(first).version == state.version == 2


def test_a_failed_request_commits_none_of_its_writes(tmp_path):
    store = SessionStore(tmp_path)
    first, _ = two_sessions_in_other_stripes(store)
    state = store.load(first)
    try:
        with store.hold(first), store.deferred():
            state.answers["employees"] = 12
            state.save()
            raise RuntimeError("the request fails after its answer")
    except RuntimeError:
        pass
    assert store.load(first).answers == {} and store.load(first).version == 1


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pnman.interview.web.sessions import SessionStore
    store = SessionStore(Path(sys.argv[1]))
    with store.hold(sys.argv[2]):
        print("held", flush=True)
        sys.stdin.readline()          # until the test says so
""")


def test_another_process_waits_for_the_session_but_not_for_others(tmp_path):
    store = SessionStore(tmp_path)
    first, second = two_sessions_in_other_stripes(store)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), first], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "held"
        with store.hold(second):                      # another stripe: at once
            pass
        got = threading.Event()

        def take():
            with store.hold(first):
                got.set()
        waiter = threading.Thread(target=take, daemon=True)
        waiter.start()
        assert not got.wait(0.5), "took a session another process holds"
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert got.wait(10), "the session was not given back when the other process let it go"
    finally:
        holder.kill()
        holder.wait(10)


def test_a_killed_holder_gives_the_session_back(tmp_path):
    store = SessionStore(tmp_path)
    first, _ = two_sessions_in_other_stripes(store)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), first], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    got = threading.Event()
    threading.Thread(target=lambda: (store.hold(first).__enter__(), got.set()), daemon=True).start()
    assert got.wait(10)
