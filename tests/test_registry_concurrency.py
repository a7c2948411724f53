"""The registry with several writers at once, and writers killed mid-append (contract §8).

Two `pnman batch --record` runs and a third process appending through `Registry` in a loop
(what `pnman serve` does) write one registry that none of them has created yet: no entry
is lost, the chain stays linear. A process appending in a tight loop is SIGKILLed again and
again: every kill leaves a registry that verifies, with every entry the writer saw
committed (at most one more, committed before it could say so). A real `pnman serve --record`
finishing interviews through its API while two batches append is tested too.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import record_of
from pnman.records.registry import Registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

WRITER = """
import json, sys
from pnman.records.registry import Registry
path, source, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
record = json.load(open(source, encoding="utf-8"))
registry = Registry.open(path)
n = 0
while count < 0 or n < count:
    entry = registry.append_assessment(record)
    print(entry.id, flush=True)         # said once committed
    n += 1
"""


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PNMAN_PROGRESS="")
    env.pop("PNMAN_REGISTRY", None)
    return env


def _portfolio(path: Path, rows: int, seed: int) -> Path:
    rng = random.Random(seed)
    goals = ["network", "website", "start_it", "erp", "gpao", "security"]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            profile = {"name": f"S{seed}-{i}", "employees": rng.randint(3, 260), "pnman_member": rng.random() < .8,
                       "goals": rng.sample(goals, 2), "uses_it": rng.random() < .6}
            handle.write(json.dumps(profile) + "\n")
    return path


def _record_file(tmp_path: Path, kb) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record_of({"name": "Serveur", "employees": 30, "goals": ["network"]}, kb,
                                         timestamp=None, lang="fr"), ensure_ascii=False), encoding="utf-8")
    return path


def test_two_batches_and_a_server_write_one_registry_at_once(tmp_path, kb):
    registry = tmp_path / "shared" / "registry.sqlite3"        # nobody has created it yet
    rows = 40
    batches = [subprocess.Popen([sys.executable, "-m", "pnman", "batch",
                                 str(_portfolio(tmp_path / f"p{n}.jsonl", rows, n)), "-o", str(tmp_path / f"out{n}.jsonl"),
                                 "--jobs", str(jobs), "--record", "--registry", str(registry)],
                                cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for n, jobs in ((1, 2), (2, 1))]
    server = subprocess.Popen([sys.executable, "-c", WRITER, str(registry), str(_record_file(tmp_path, kb)), "60"],
                              cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served, server_err = server.communicate(timeout=120)
    results = [b.communicate(timeout=120) for b in batches]
    assert server.returncode == 0, server_err
    assert [b.returncode for b in batches] == [0, 0], [err for _, err in results]
    with Registry.open(registry, create=False) as reg:
        report = reg.verify()
        assert report.ok and report.entries == 2 * rows + 60, report
        ids = {s.id for s in reg.list()}
        assert reg.index_lag() == 0     # the dashboard's index, kept by every appender in its transaction
    conn = sqlite3.connect(registry)
    assert {i for (i,) in conn.execute("SELECT id FROM index_assessments")} == ids
    assert conn.execute("SELECT SUM(companies) FROM index_fiche_status").fetchone()[0] == \
        len(ids) * conn.execute("SELECT COUNT(DISTINCT fiche) FROM index_fiche_status").fetchone()[0]
    conn.close()
    assert len(ids) == 2 * rows + 60
    assert set(served.split()) <= ids
    for n in (1, 2):
        lines = [json.loads(x) for x in (tmp_path / f"out{n}.jsonl").read_text().splitlines()]
        assert len(lines) == rows and {x["entry"] for x in lines} <= ids


def test_two_batches_and_a_real_pnman_serve_record_into_one_registry_at_once(tmp_path):
    """The same, with `pnman serve --record` itself: interviews finished through its API while
    two batches append."""
    httpx = pytest.importorskip("httpx2")
    from web_server import free_port
    registry = tmp_path / "shared" / "registry.sqlite3"
    registry.parent.mkdir()
    port, rows, interviews = free_port(), 30, 12
    env = dict(_env(), PNMAN_HOME=str(tmp_path / "home"))
    server = subprocess.Popen([sys.executable, "-m", "pnman", "serve", "--port", str(port), "--record",
                               "--registry", str(registry)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):                                  # at most 20 s to start
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        batches = [subprocess.Popen([sys.executable, "-m", "pnman", "batch",
                                     str(_portfolio(tmp_path / f"p{n}.jsonl", rows, n)), "-o",
                                     str(tmp_path / f"out{n}.jsonl"), "--record", "--registry", str(registry)],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                   for n in (1, 2)]
        entries = []
        with httpx.Client(base_url=base, timeout=30) as web:
            for i in range(interviews):
                profile = {"employees": 10 + i, "goals": ["network"], "pnman_member": True}
                body = web.post("/api/interviews", json={}).json()
                session, step = body["id"], body["next"]
                while step is not None:
                    body = web.post(f"/api/interviews/{session}/answers",
                                    json={"key": step["key"], "value": profile.get(step["key"])}).json()
                    assert "next" in body, body
                    step = body["next"]
                entries.append(body["result"]["registry"]["entry"])
        results = [b.communicate(timeout=120) for b in batches]
        assert [b.returncode for b in batches] == [0, 0], [err for _, err in results]
    finally:
        server.terminate()
        server.wait(timeout=10)
    with Registry.open(registry, create=False) as reg:
        report = reg.verify()
        assert report.ok and report.entries == 2 * rows + interviews, report
        assert set(entries) <= {s.id for s in reg.list()}


def _kill_rounds(tmp_path: Path, kb, rounds: int, most: int) -> None:
    path = tmp_path / "killed.sqlite3"
    source = _record_file(tmp_path, kb)
    seen = 0
    rng = random.Random(7)
    for _ in range(rounds):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(source), "-1"], cwd=ROOT, env=_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wanted = rng.randint(1, most)
        said = 0
        while said < wanted:
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
            said += 1
        time.sleep(rng.random() * 0.004)        # land anywhere: between appends, inside one, in its commit
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        said += len(writer.stdout.read().split())
        writer.stdout.close()
        writer.stderr.close()
        seen += said
        with Registry.open(path, create=False) as reg:
            report = reg.verify()
            assert report.ok, report
            assert seen <= report.entries <= seen + 1, (seen, report.entries)
            seen = report.entries


def test_a_writer_killed_mid_append_leaves_a_chain_that_verifies(tmp_path, kb):
    _kill_rounds(tmp_path, kb, rounds=4, most=15)


@pytest.mark.stress
def test_many_kills(tmp_path, kb):
    _kill_rounds(tmp_path, kb, rounds=40, most=60)
