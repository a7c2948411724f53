"""An API answer is taken on the event loop when nothing can keep it waiting there (its
session free, the database's write lock free, no registry to append to), and in a worker
thread otherwise: the same answers either way, none lost or taken twice."""
from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
import zlib
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from pnman.interview.web import api  # noqa: E402
from pnman.interview.web.app import Settings, create_app  # noqa: E402
from pnman.interview.web.sessions import BUSY_MS, DB_NAME, LOCK_STRIPES, LOCKS_DIR, SessionStore, StoreBusy  # noqa: E402
from strategies import KB  # noqa: E402

BASE = "http://127.0.0.1:8000"
PROFILE = {"name": "Atelier Maintenant", "employees": 12, "pnman_member": True, "goals": ["erp"], "uses_it": True,
           "it_manager": True, "local_network": True, "internet_access": True, "management_software": True}


@pytest.fixture()
def threads(monkeypatch) -> list[str]:
    """The endpoints' work sent to a worker thread (by name)."""
    sent = []
    real = api.run_in_threadpool

    async def counted(function, *args, **kwargs):
        sent.append(function.__name__)
        return await real(function, *args, **kwargs)
    monkeypatch.setattr(api, "run_in_threadpool", counted)
    return sent


def server(folder: Path, **options) -> TestClient:
    return TestClient(create_app(Settings(kb=KB, sessions=folder, accounts=folder / "accounts.sqlite3", **options)),
                      base_url=BASE)


def stripe_of(session_id: str) -> int:
    return zlib.crc32(session_id.encode()) % LOCK_STRIPES


def answer_all(client: TestClient, session: str, step: dict) -> dict:
    while step is not None:
        reply = client.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": PROFILE.get(step["key"])})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        step = body["next"]
    return body


def test_answers_are_taken_on_the_event_loop_and_equal_the_worker_threads(tmp_path, threads, monkeypatch):
    client = server(tmp_path)
    started = client.post("/api/interviews", json={"lang": "en"}).json()
    now = answer_all(client, started["id"], started["next"])
    assert threads == []                        # every answer on the loop, the result's included
    monkeypatch.setattr(SessionStore, "hold_if_free", lambda self, session_id: _never())
    started = client.post("/api/interviews", json={"lang": "en"}).json()
    later = answer_all(client, started["id"], started["next"])
    assert threads and set(threads) == {"_step"}
    for body in (now, later):
        body["result"].pop("timestamp"), body["result"].pop("record_hash")
    assert now == later


class _never:
    def __enter__(self):
        return False

    def __exit__(self, *exc):
        return False


def test_a_session_held_elsewhere_is_answered_in_a_thread_once_free(tmp_path, threads):
    client = server(tmp_path)
    started = client.post("/api/interviews", json={}).json()
    session, step = started["id"], started["next"]
    # Another process's request holds the session: its own open lock file, flocked.
    handle = os.open(tmp_path / LOCKS_DIR / f"{stripe_of(session):02d}", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    release = threading.Timer(0.3, lambda: fcntl.flock(handle, fcntl.LOCK_UN))
    release.start()
    began = time.monotonic()
    reply = client.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": PROFILE[step["key"]]})
    assert reply.status_code == 200, reply.text
    assert time.monotonic() - began >= 0.25       # it waited for the other request, in a thread
    assert threads == ["_step"]
    os.close(handle)
    shown = client.get(f"/api/interviews/{session}").json()
    assert shown["asked"] == [step["key"]] and shown["answers"] == {step["key"]: PROFILE[step["key"]]}


def test_a_busy_database_sends_the_answer_to_a_thread_that_waits_and_takes_it_once(tmp_path, threads):
    client = server(tmp_path)
    started = client.post("/api/interviews", json={}).json()
    session, step = started["id"], started["next"]
    other = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")             # another server writing
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    reply = client.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": PROFILE[step["key"]]})
    release.join()
    other.close()
    assert reply.status_code == 200, reply.text
    assert threads == ["_step"]                  # refused at once on the loop, then waited for in a thread
    shown = client.get(f"/api/interviews/{session}").json()
    assert shown["asked"] == [step["key"]] and shown["next"] == reply.json()["next"]
    answered = answer_all(client, session, reply.json()["next"])
    assert answered["result"]["profile"]["employees"] == PROFILE["employees"]


def test_while_an_answer_is_in_a_thread_the_next_ones_go_to_threads_too(tmp_path, threads):
    """A busy server keeps its threads: an answer waiting in one sends the others there."""
    httpx = pytest.importorskip("httpx2")
    app = create_app(Settings(kb=KB, sessions=tmp_path, accounts=tmp_path / "accounts.sqlite3"))
    client = TestClient(app, base_url=BASE)
    first = client.post("/api/interviews", json={}).json()
    second = first
    while stripe_of(second["id"]) == stripe_of(first["id"]):    # one lock apart: the second's own is free
        second = client.post("/api/interviews", json={}).json()
    handle = os.open(tmp_path / LOCKS_DIR / f"{stripe_of(first['id']):02d}", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)            # the first session held by another process
    safety = threading.Timer(20, lambda: fcntl.flock(handle, fcntl.LOCK_UN))    # a failure, not a hang
    safety.start()

    async def both():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
                                     base_url=BASE) as client:
            def answer(started):
                key = started["next"]["key"]
                return client.post(f"/api/interviews/{started['id']}/answers", json={"key": key, "value": PROFILE[key]})
            waiting = asyncio.create_task(answer(first))
            for _ in range(2000):                   # bounded: 20 s at most, then the assertion says why
                if threads:
                    break
                await asyncio.sleep(0.01)
            assert threads, "the first answer never went to a thread"
            other = await answer(second)            # its session is free, but an answer waits in a thread
            fcntl.flock(handle, fcntl.LOCK_UN)
            return await waiting, other
    replies = asyncio.run(both())
    safety.cancel()
    os.close(handle)
    assert [reply.status_code for reply in replies] == [200, 200]
    assert threads == ["_step", "_step"]


def test_a_server_that_records_answers_in_threads(tmp_path, threads):
    client = server(tmp_path, registry=tmp_path / "registry.jsonl", record=True)
    started = client.post("/api/interviews", json={}).json()
    answer_all(client, started["id"], started["next"])
    assert threads and set(threads) == {"_step"}


def test_hold_if_free_holds_or_gives_up_at_once(tmp_path):
    store = SessionStore(tmp_path)
    session = store.create("fr", "program").id
    with store.hold_if_free(session) as free:
        assert free
        taken = []
        waiter = threading.Thread(target=lambda: taken.append(_try(store, session)))
        waiter.start()
        waiter.join()
        assert taken == [False]                  # another thread: not held for it, no wait
        handle = os.open(tmp_path / LOCKS_DIR / f"{stripe_of(session):02d}", os.O_RDWR | os.O_CREAT, 0o600)
        with pytest.raises(BlockingIOError):     # another process: the stripe's file is locked
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with store.hold(session):                # this thread again: re-entered, no wait
            with pytest.raises(BlockingIOError):
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BlockingIOError):     # leaving the inner hold keeps the outer one
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)     # released at the block's end
    with store.hold_if_free(session) as free:
        assert not free                          # held by that other "process"
    fcntl.flock(handle, fcntl.LOCK_UN)
    os.close(handle)
    assert _try(store, session)


def _try(store: SessionStore, session: str) -> bool:
    with store.hold_if_free(session) as free:
        return free


def test_impatient_refuses_a_held_write_lock_at_once_and_waits_again_after(tmp_path):
    store = SessionStore(tmp_path)
    state = store.create("fr", "program")
    other = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    began = time.monotonic()
    with pytest.raises(StoreBusy), store.impatient(), store.deferred():
        state.save()
    assert time.monotonic() - began < 1
    assert store._conn().execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_MS
    other.execute("COMMIT")
    other.close()
