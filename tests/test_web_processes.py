"""Real `pnman serve` processes on one PNMAN_HOME: one interview answered through both in
turn shows the same answers in order in each (nothing forked), and a server killed with
SIGKILL between answers loses no acknowledged answer and leaves no temporary file."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx2")
from web_server import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROFILE = {"employees": 12, "goals": ["network", "server"], "pnman_member": True, "diagnostic_approved": True,
           "recommendations": ["tic_investment"], "general_conditions": True, "industrial": True,
           "uses_it": True, "local_network": False, "it_manager": True}


@contextlib.contextmanager
def server(home: Path, *extra: str):
    """`pnman serve` on a free port, as a process; stopped (or found killed) at the end."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PNMAN_HOME=str(home))
    env.pop("PNMAN_REGISTRY", None)
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "serve", "--port", str(port), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):                                   # at most 30 s to start
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as web:
            web.proc = proc
            yield web
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.slow
def test_two_servers_answer_one_interview_in_turn_and_never_fork_it(tmp_path):
    with server(tmp_path) as one, server(tmp_path) as two:
        started = one.post("/api/interviews", json={"lang": "en"}).json()
        session, step = started["id"], started["next"]
        given, turn = [], 0
        while step is not None and turn < 60:
            web = (one, two)[turn % 2]
            other = (two, one)[turn % 2]
            # each server shows what the other accepted last, before it answers
            assert web.get(f"/api/interviews/{session}").json()["asked"] == [k for k, _ in given]
            value = PROFILE.get(step["key"])
            reply = web.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": value})
            assert reply.status_code == 200, reply.text
            given.append((step["key"], value))
            assert other.get(f"/api/interviews/{session}").json()["next"] == reply.json()["next"]
            step, turn = reply.json()["next"], turn + 1
            if turn == 3:                                           # one step back, through the other server
                back = other.post(f"/api/interviews/{session}/back")
                assert back.status_code == 200
                given.pop()
                step = back.json()["next"]
        assert step is None
        shown = [w.get(f"/api/interviews/{session}").json() for w in (one, two)]
        assert shown[0] == shown[1]
        assert shown[0]["asked"] == [k for k, _ in given]
        assert shown[0]["answers"] == {k: v for k, v in given if v is not None}
        assert shown[0]["result"]["decision_digest"] == shown[1]["result"]["decision_digest"]


@pytest.mark.slow
def test_a_server_killed_between_answers_loses_no_acknowledged_answer(tmp_path):
    acknowledged = []
    with server(tmp_path) as web:
        session = web.post("/api/interviews", json={}).json()["id"]
        step = web.get(f"/api/interviews/{session}").json()["next"]
        for _ in range(4):
            value = PROFILE.get(step["key"])
            reply = web.post(f"/api/interviews/{session}/answers", json={"key": step["key"], "value": value})
            assert reply.status_code == 200
            acknowledged.append(step["key"])
            step = reply.json()["next"]
        web.proc.send_signal(signal.SIGKILL)
        web.proc.wait(timeout=10)
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    with server(tmp_path) as again:
        shown = again.get(f"/api/interviews/{session}").json()
        assert shown["asked"] == acknowledged
        assert shown["next"] == step


@pytest.mark.slow
def test_two_workers_of_one_server_answer_one_interview_and_never_fork_it(tmp_path):
    """`--workers 2`: each request on a new connection, so both workers take turns."""
    with server(tmp_path, "--workers", "2") as web:
        base = str(web.base_url).rstrip("/")
        session = httpx.post(base + "/api/interviews", json={}).json()["id"]
        step, given = httpx.get(f"{base}/api/interviews/{session}").json()["next"], []
        while step is not None and len(given) < 60:
            reply = httpx.post(f"{base}/api/interviews/{session}/answers",
                               json={"key": step["key"], "value": PROFILE.get(step["key"])}, timeout=30)
            assert reply.status_code == 200, reply.text
            given.append(step["key"])
            shown = httpx.get(f"{base}/api/interviews/{session}", timeout=30).json()
            assert shown["asked"] == given
            step = reply.json()["next"]
        assert step is None and shown["result"] is not None
