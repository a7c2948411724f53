"""`pnman batch --record` records a portfolio row once (contract §13): each entry keeps its
source (the portfolio's SHA-256, the row), a rerun records nothing again and says so in
each line, and a run killed with -9 at any point then resumed leaves exactly one entry per
row (the default suite does a few rounds; `-m stress` does 20)."""
from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.portfolio import profiles as portfolio
from conftest import run
from pnman.records.registry import Registry

ROOT = Path(__file__).resolve().parent.parent


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sources(registry_path: Path) -> list[dict]:
    with Registry.open(registry_path, create=False) as registry:
        return [registry.get(s.id).payload["index"].get("source") for s in registry.list()]


def test_a_rerun_of_the_same_portfolio_records_no_row_twice_and_says_so(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(12, seed=21))
    digest = "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    reg = tmp_path / "r.sqlite3"
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--record", "--registry", str(reg))
    assert code == 0, err
    first = {line["row"]: line for line in lines_of(out)}
    recorded = {row: line["entry"] for row, line in first.items() if "entry" in line}
    assert recorded and not any(line.get("recorded_before") for line in first.values())
    assert sorted((s["portfolio"], s["row"]) for s in sources(reg)) == sorted((digest, r) for r in recorded)

    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--record", "--registry", str(reg))
    assert code == 0, err
    again = {line["row"]: line for line in lines_of(out)}
    assert {row: line["entry"] for row, line in again.items() if "entry" in line} == recorded
    assert all(again[row]["recorded_before"] is True for row in recorded)
    assert len(sources(reg)) == len(recorded)

    # --full: the record as recorded comes back, with its entry
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--record", "--registry", str(reg), "--full")
    assert code == 0, err
    full = [line for line in lines_of(out) if "record" in line]
    assert {line["record"]["registry"]["entry"] for line in full} == set(recorded.values())
    assert all(line["recorded_before"] for line in full)

    # another portfolio (one byte changed) is another source: its rows are recorded
    other = write_jsonl(tmp_path / "q.jsonl", list(portfolio(12, seed=21)) + [{"employees": 12, "goals": ["network"]}])
    code, _, err = run(capsys, "batch", str(other), "-o", str(tmp_path / "q.out.jsonl"), "--record", "--registry",
                       str(reg))
    assert code == 0, err
    assert len(sources(reg)) == 2 * len(recorded) + 1

    code, out_text, _ = run(capsys, "registry", "show", recorded[min(recorded)], "--registry", str(reg), "--lang", "en")
    assert f"Source: portfolio {digest}, row {min(recorded)}" in out_text


def _indexed_ids(path: Path) -> set[str]:
    import sqlite3
    conn = sqlite3.connect(path)
    try:
        return {entry_id for (entry_id,) in conn.execute("SELECT id FROM index_assessments")}
    finally:
        conn.close()


def _kill_and_resume(tmp_path: Path, count: int, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(count, seed=seed))
    reg = tmp_path / "r.sqlite3"
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out), "--jobs", "2", "--record",
               "--registry", str(reg)]
    killed = 0
    for number in range(rounds):
        proc = subprocess.Popen(command + (["--resume"] if number else []), cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            proc.wait(timeout=rng.uniform(0.3, 2.5))       # a random point: starting, assessing, writing
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)             # kill -9 the run and its workers
            killed += 1
        proc.communicate(timeout=60)
        if proc.returncode == 0:
            break
    proc = subprocess.run(command + ["--resume"], cwd=ROOT, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert killed >= 1
    lines = lines_of(out)
    assert [line["row"] for line in lines] == list(range(1, count + 1))
    assessed = sorted(line["row"] for line in lines if "error" not in line)
    found = sources(reg)
    digest = "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    assert all(s is not None and s["portfolio"] == digest for s in found)
    assert sorted(s["row"] for s in found) == assessed            # entries = rows, each once
    with Registry.open(reg, create=False) as registry:
        assert registry.verify().ok
        assert registry.index_lag() == 0            # the dashboard's index, written with each append: whole
        assert _indexed_ids(reg) == {s.id for s in registry.list()}
        entries = {line["row"]: line["entry"] for line in lines if "entry" in line}
        assert all(registry.get(entry).payload["index"]["source"]["row"] == row for row, entry in entries.items())


def test_a_run_killed_with_9_and_resumed_records_every_row_once(tmp_path):
    _kill_and_resume(tmp_path, count=150, rounds=3, seed=31)


@pytest.mark.stress
def test_twenty_rounds_of_kill_9_and_resume_record_every_row_once(tmp_path):
    _kill_and_resume(tmp_path, count=400, rounds=20, seed=32)
