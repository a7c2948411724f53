"""`pnman batch`: a portfolio is streamed, every row's failure is that row's, a killed run
resumes, two runs cannot write one output, French Excel files are read, and the output
file is written safely."""
from __future__ import annotations

import contextlib
import csv
import faulthandler
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from bench.portfolio import profiles as portfolio
from bench.portfolio import write_csv
from pnman.interview.cli.batch import assessing as batch_assessing
from pnman.interview.cli.batch import workers as batch_workers
from conftest import one_clean_line, run
from pnman.interview.cli.main import main

ROOT = Path(__file__).resolve().parent.parent






def lines_of(path: Path) -> list[dict]:
    """The output's lines; split on "\\n" only (a name may hold U+2028)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


BAD_ROWS_CSV = ("name,employees,goals,uses_it,pnman_member\n"
                "A,12,network,oui,true\n"
                "B,douze,network,oui,true\n"
                "C,30,website;emarketing,maybe,true\n"
                "D,40,netwrk,true,true\n"
                "E,7,start_it,non,\n")


# -- moved from test_hostile.py ------------------------------------------------------------------------

def test_batch_reports_bad_rows_and_keeps_going(capsys, tmp_path):
    source = tmp_path / "p.csv"
    source.write_text(BAD_ROWS_CSV, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--lang", "en")
    assert code == 0
    lines = lines_of(out)
    assert [line["row"] for line in lines] == [2, 3, 4, 5, 6]
    assert ["error" in line for line in lines] == [False, True, True, True, False]
    assert "row 3" in err and "row 4" in err and "row 5" in err and "Traceback" not in err
    # 5 rows read, 3 rejected: 2 assessed (the summary used to say "5 companies assessed")
    assert "2 companies assessed, 3 rows rejected (5 rows read)" in stdout
    assert lines[4]["statuses"]["13"] == "unknown"       # membership left empty: unknown, not false


def test_batch_bad_header_and_missing_file(capsys, tmp_path):
    source = tmp_path / "p.csv"
    source.write_text("name,employes\nA,3\n", encoding="utf-8")
    code, _, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and "did you mean 'employees'" in err
    code, _, err = run(capsys, "batch", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and "no such batch file" in err


def test_batch_jsonl_with_two_processes_keeps_order(capsys, tmp_path):
    source = tmp_path / "p.jsonl"
    rows = list(portfolio(30, seed=7))
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(one), "--jobs", "1")[0] == 0
    assert run(capsys, "batch", str(source), "-o", str(two), "--jobs", "2")[0] == 0
    assert one.read_bytes() == two.read_bytes()
    lines = lines_of(one)
    assert [line["row"] for line in lines] == list(range(1, 32))
    assert "error" in lines[-1]
    summary = json.loads((tmp_path / "one.summary.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 31 and summary["errors"] == 1 + sum(1 for line in lines[:-1] if "error" in line)


def test_batch_full_records_are_auditable(capsys, tmp_path, kb):
    from pnman.engine.audit import audit
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(5, seed=2))
    out = tmp_path / "full.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(out), "--full")[0] == 0
    lines = lines_of(out)
    assert all(audit(line["record"], kb)["verdict"] == "match" for line in lines)
    compact = tmp_path / "compact.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(compact))[0] == 0
    first = lines_of(compact)[0]
    assert first["statuses"] == {str(e["fiche"]): e["status"] for e in lines[0]["record"]["fiches"]}
    assert first["profile"] == lines[0]["record"]["profile"]
    # the summary of --full is read from the records: the same figures as the compact run's
    assert (json.loads((tmp_path / "full.summary.json").read_text(encoding="utf-8"))
            == json.loads((tmp_path / "compact.summary.json").read_text(encoding="utf-8")))


# -- 1. one row's failure never aborts the run ---------------------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unexpected_failure_is_that_rows_error(capsys, tmp_path, monkeypatch, jobs):
    from pnman.engine import facade
    real = facade.assess

    def flaky(profile, kb):
        if profile.get("name") == "boom":
            raise ZeroDivisionError("division by zero in a rule")
        return real(profile, kb)

    monkeypatch.setattr(facade, "assess", flaky)      # forked workers inherit it
    rows = list(portfolio(6, seed=3))
    rows[2]["name"] = "boom"
    source = write_jsonl(tmp_path / "p.jsonl", rows)
    out = tmp_path / "out.jsonl"
    code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", jobs, "--lang", "en")
    assert code == 0, err
    lines = lines_of(out)
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert ["error" in line for line in lines] == [False, False, True, False, False, False]
    assert "could not be assessed (ZeroDivisionError" in lines[2]["error"]
    assert "row 3" in err and "internal error" not in err and "Traceback" not in err
    assert "5 companies assessed, 1 row rejected (6 rows read)" in stdout


@contextlib.contextmanager
def deadline(seconds: int):
    """A run that hangs fails the test instead (SIGALRM interrupts the wait for the workers)."""
    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def kill_the_worker_on(monkeypatch, rows, how=signal.SIGKILL):
    """The worker assessing one of `rows` is killed outright (as by the OOM killer, or a crash in
    durable-rules' C code); forked workers inherit the patch."""
    real = batch_assessing._assess

    def assess(number, data):
        if rows == "all" or number in rows:
            faulthandler.disable()          # pytest's: no traceback of the crash on the test's output
            os.kill(os.getpid(), how)
        return real(number, data)

    monkeypatch.setattr(batch_assessing, "_assess", assess)


@pytest.mark.parametrize("count, killers, how", [(6, {3}, signal.SIGKILL),               # chunks of 1 row
                                                 (120, {17, 18, 64}, signal.SIGKILL),    # chunks of 7 rows
                                                 (40, {1, 40}, signal.SIGSEGV)])         # a crash in C code
def test_a_worker_killed_by_a_row_is_that_rows_error(capsys, tmp_path, monkeypatch, count, killers, how):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(count, seed=12))
    reference = tmp_path / "ref.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(reference), "--jobs", "2")[0] == 0
    kill_the_worker_on(monkeypatch, killers, how)
    monkeypatch.setenv("PNMAN_PROGRESS", "1")                 # the progress bar goes on too
    out = tmp_path / "out.jsonl"
    with deadline(60):
        code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "2", "--lang", "en")
    assert code == 0, err
    lines, expected = lines_of(out), lines_of(reference)
    assert [line["row"] for line in lines] == list(range(1, count + 1))
    for line, same in zip(lines, expected):
        if line["row"] in killers:
            died = f"the process assessing this row died (signal {how.value}, {how.name})"
            assert line == {"row": line["row"], "error": died}
            assert f"row {line['row']}: {died}" in err
        else:
            assert line == same
    rejected = f"{len(killers)} row rejected" if len(killers) == 1 else f"{len(killers)} rows rejected"
    assert f"{count - len(killers)} companies assessed, {rejected} ({count} rows read)" in stdout
    summary = json.loads((tmp_path / "out.summary.json").read_text(encoding="utf-8"))
    assert (summary["rows"], summary["errors"]) == (count, len(killers))
    assert "Traceback" not in err and not (tmp_path / "out.jsonl.partial").exists()


@pytest.mark.slow
def test_a_run_whose_every_row_kills_its_worker_ends(capsys, tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(40, seed=12))     # chunks of 2 rows
    kill_the_worker_on(monkeypatch, "all")
    out = tmp_path / "out.jsonl"
    start = time.monotonic()
    with deadline(60):
        code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "2", "--lang", "en")
    assert code == 0, err
    assert time.monotonic() - start < 20      # 60 forks at most: a chunk's, then each row's
    lines = lines_of(out)
    assert [line["row"] for line in lines] == list(range(1, 41))
    assert all(line["error"].startswith("the process assessing this row died (signal 9") for line in lines)
    assert "0 companies assessed, 40 rows rejected (40 rows read)" in stdout


def test_workers_that_cannot_start_stop_the_run(capsys, tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(10, seed=12))
    monkeypatch.setattr(batch_workers, "_work", lambda conn, close: os._exit(3))
    out = tmp_path / "out.jsonl"
    with deadline(60):
        code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "2")
    assert code == 2 and one_clean_line(err)
    assert "keep ending before they assess any row (the last one ended: exit code 3)" in err
    assert not out.exists() and (tmp_path / "out.jsonl.partial").exists()


@pytest.mark.slow
def test_ctrl_c_with_workers_keeps_the_partial_output(capsys, tmp_path):
    count = 600
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(count, seed=13))
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out),
                             "--jobs", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline_ = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size > 0) and proc.poll() is None:
            assert time.monotonic() < deadline_
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
    finally:
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert b"--resume" in stderr and b"Traceback" not in stderr and not out.exists()
    code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "2", "--resume", "--lang", "en")
    assert code == 0, err
    assert [line["row"] for line in lines_of(out)] == list(range(1, count + 1))
    assert f"({count:,} rows read)" in stdout


def _proc_stat(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, parent pid, ...; [] once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and _proc_stat(int(p.name))[1:2] == [str(pid)]]


def _running(pid: int) -> bool:
    return _proc_stat(pid)[:1] not in ([], ["Z"])


@pytest.mark.slow
def test_a_killed_main_process_leaves_no_worker_behind(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(600, seed=14))
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out),
                             "--jobs", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline_ = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size > 0) and proc.poll() is None:
            assert time.monotonic() < deadline_
            time.sleep(0.005)
        workers = _children(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert len(workers) == 2 and not out.exists()
    deadline_ = time.monotonic() + 10           # a worker ends when it sees the main process's end of its pipe close
    while any(_running(pid) for pid in workers):
        assert time.monotonic() < deadline_, "a worker outlived the main process"
        time.sleep(0.01)
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "2", "--resume")
    assert code == 0, err
    assert [line["row"] for line in lines_of(out)] == list(range(1, 601))


# -- 2. the input is streamed --------------------------------------------------------------------------

@pytest.mark.slow
def test_the_input_is_streamed_not_read_whole(tmp_path, monkeypatch, kb):
    source = tmp_path / "p.jsonl"
    small = write_jsonl(tmp_path / "small.jsonl", [{"employees": "many"}] * 3)
    with open(source, "w", encoding="utf-8") as handle:      # rows rejected at once: the reading is what is measured
        for index in range(15_000):
            handle.write(json.dumps({"name": f"Entreprise {index:06d} " + "x" * 60, "employees": "many"}) + "\n")
    out = tmp_path / "out.jsonl"
    with open(os.devnull, "w", encoding="utf-8") as sink:
        monkeypatch.setattr(sys, "stderr", sink)              # 15,000 row errors are not the memory measured
        monkeypatch.setattr(sys, "stdout", sink)
        main(["batch", str(small), "-o", str(out)])           # warm: catalogues, imports
        tracemalloc.start()
        try:
            code = main(["batch", str(source), "-o", str(out)])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert code == 0
    assert sum(1 for _ in open(out, encoding="utf-8")) == 15_000
    size = source.stat().st_size                              # 1.6 MB; the old reader held it several times over
    assert peak < size / 4, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB input"


# -- 3. --resume ---------------------------------------------------------------------------------------

def _portfolio_with_a_bad_row(tmp_path, count=40) -> Path:
    rows = list(portfolio(count, seed=5))
    rows[11]["employees"] = "douze"
    return write_jsonl(tmp_path / "p.jsonl", rows)


@pytest.mark.parametrize("full", [False, True])
def test_resume_continues_from_the_rows_written(capsys, tmp_path, full):
    source = _portfolio_with_a_bad_row(tmp_path)
    extra = ["--full"] if full else []
    reference = tmp_path / "ref.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(reference), "--lang", "en", *extra)[0] == 0
    lines = reference.read_bytes().split(b"\n")[:-1]
    out = tmp_path / "out.jsonl"
    # a killed run: 17 lines written, the 18th cut in the middle
    (tmp_path / "out.jsonl.partial").write_bytes(b"\n".join(lines[:17]) + b"\n" + lines[17][:30])
    code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--resume", "--lang", "en", *extra)
    assert code == 0, err
    assert out.read_bytes() == reference.read_bytes()
    assert (json.loads((tmp_path / "out.summary.json").read_text(encoding="utf-8"))
            == json.loads((tmp_path / "ref.summary.json").read_text(encoding="utf-8")))
    assert "39 companies assessed, 1 row rejected (40 rows read)" in stdout     # resumed rows counted too
    assert not (tmp_path / "out.jsonl.partial").exists() and not (tmp_path / "out.jsonl.lock").exists()


def test_resume_a_csv_with_workers(capsys, tmp_path):
    """The workers read the CSV cells; the main process still checks the last row written."""
    rows = list(portfolio(40, seed=5))
    source = tmp_path / "p.csv"
    write_csv(source, rows)
    reference = tmp_path / "ref.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(reference), "--jobs", "2")[0] == 0
    written = b"".join(reference.read_bytes().splitlines(keepends=True)[:17])
    partial = tmp_path / "out.jsonl.partial"
    partial.write_bytes(written)
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "2", "--resume")
    assert code == 0, err
    assert out.read_bytes() == reference.read_bytes()
    rows[16]["employees"] = 249                                 # the 17th row, line 18
    changed = tmp_path / "changed.csv"
    write_csv(changed, rows)
    partial.write_bytes(written)
    code, _, err = run(capsys, "batch", str(changed), "-o", str(out), "--jobs", "2", "--resume")
    assert code == 2 and one_clean_line(err) and "row 18" in err and "changed" in err


def test_resume_refuses_a_changed_input_or_other_options(capsys, tmp_path):
    source = _portfolio_with_a_bad_row(tmp_path)
    reference = tmp_path / "ref.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(reference))[0] == 0
    partial = tmp_path / "out.jsonl.partial"
    written = b"".join(reference.read_bytes().splitlines(keepends=True)[:5])
    partial.write_bytes(written)
    code, _, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--resume", "--full")
    assert code == 2 and one_clean_line(err) and "--full" in err
    rows = list(portfolio(40, seed=5))
    rows[4]["employees"] = 249                                  # the last row written is not the input's any more
    changed = write_jsonl(tmp_path / "changed.jsonl", rows)
    code, _, err = run(capsys, "batch", str(changed), "-o", str(tmp_path / "out.jsonl"), "--resume")
    assert code == 2 and one_clean_line(err) and "row 5" in err and "changed" in err
    assert partial.read_bytes() == written                      # nothing lost for a right resume
    code, _, err = run(capsys, "batch", str(source), "-o", "-", "--resume")
    assert code == 2 and one_clean_line(err) and "--resume" in err


@pytest.mark.slow
def test_resume_after_the_process_is_killed(capsys, tmp_path):
    count = 1000
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(count, seed=6))
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size > 0) and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        proc.kill()
        proc.wait()
    assert not out.exists(), "the run ended before it wrote part of its output"
    kept = partial.read_bytes()
    code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--resume", "--lang", "en")
    assert code == 0, err
    result = out.read_bytes()
    complete = kept[: kept.rfind(b"\n") + 1]
    assert 0 < len(complete) and result.startswith(complete)   # the rows written before the kill are kept as they were
    lines = lines_of(out)
    assert [line["row"] for line in lines] == list(range(1, count + 1))
    assert [line["name"] for line in lines] == [f"Entreprise {i}" for i in range(1, count + 1)]
    assert f"({count:,} rows read)" in stdout
    assert json.loads((tmp_path / "out.summary.json").read_text(encoding="utf-8"))["rows"] == count


# -- 4. a lock on the output ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_second_batch_on_the_same_output_is_refused(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(400, seed=8))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "out.jsonl.partial").exists() and proc.poll() is None:   # created once locked
            assert time.monotonic() < deadline
            time.sleep(0.005)
        code, _, err = run(capsys, "batch", str(source), "-o", str(out))
        still_running = proc.poll() is None
    finally:
        _, first_err = proc.communicate(timeout=120)
    assert still_running, "the first run ended before it held a lock"
    assert code == 2 and one_clean_line(err) and "another 'pnman batch'" in err and str(out) in err
    assert proc.returncode == 0, first_err
    assert [line["row"] for line in lines_of(out)] == list(range(1, 401))       # the first run's output is whole


def test_the_lock_is_flock_on_a_lock_file(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(3, seed=8))
    out = tmp_path / "out.jsonl"
    lock = tmp_path / "out.jsonl.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = run(capsys, "batch", str(source), "-o", str(out))
    assert code == 2 and one_clean_line(err) and "lock" in err and not out.exists()
    assert run(capsys, "batch", str(source), "-o", str(out))[0] == 0      # released: the next run goes


def test_the_lock_file_is_not_followed_nor_truncated(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(3, seed=8))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.lock").symlink_to(victim)
    code, _, err = run(capsys, "batch", str(source), "-o", str(out))
    assert code == 2 and one_clean_line(err) and "symbolic link" in err
    assert victim.read_text(encoding="utf-8") == "precious\n" and not out.exists()
    (tmp_path / "out.jsonl.lock").unlink()
    (tmp_path / "out.jsonl.lock").write_text("someone's notes\n", encoding="utf-8")
    assert run(capsys, "batch", str(source), "-o", str(out))[0] == 0
    assert (tmp_path / "out.jsonl.lock").read_text(encoding="utf-8") == "someone's notes\n"


# -- 5. French Excel CSV -------------------------------------------------------------------------------

def test_french_excel_csv_semicolons_bom_crlf(capsys, tmp_path):
    rows = list(portfolio(12, seed=9))
    assert any(len(r["goals"]) > 1 for r in rows) and any(len(r["recommendations"]) > 1 for r in rows)
    comma, semi = tmp_path / "comma.csv", tmp_path / "excel.csv"
    write_csv(comma, rows)
    write_csv(semi, rows, delimiter=";", bools=("VRAI", "FAUX"), bom=True)
    raw = semi.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"network,website" not in raw.split(b"\r\n")[0]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run(capsys, "batch", str(comma), "-o", str(a))[0] == 0
    code, _, err = run(capsys, "batch", str(semi), "-o", str(b))
    assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    assert all("error" not in line for line in lines_of(b))
    assert [line["profile"]["goals"] for line in lines_of(b)] == [r["goals"] for r in rows]


def test_excel_sep_hint_and_lists_in_a_semicolon_file(capsys, tmp_path):
    source = tmp_path / "p.csv"
    source.write_bytes(b"\xef\xbb\xbfsep=;\r\nname;employees;goals;fiches\r\nA;12;network,website;16,23\r\n"
                       b"B;30;network;16;23\r\n")
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--lang", "en")
    assert code == 0
    lines = lines_of(out)
    assert lines[0]["row"] == 3 and lines[0]["profile"]["goals"] == ["network", "website"]
    assert lines[0]["profile"]["fiches"] == [16, 23]
    assert lines[1]["row"] == 4 and "expected 4 columns, found 5" in lines[1]["error"]


@pytest.mark.parametrize("header, needles", [
    ("name;employees,goals", ["both ';' (1) and ',' (1)", "expected one separator"]),
    ("name\temployees\tgoals", ["neither ',' nor ';'", "tabs"]),
    ("name|employees", ["neither ',' nor ';'", "'|'"]),
])
def test_an_ambiguous_header_names_the_separators(capsys, tmp_path, header, needles):
    source = tmp_path / "p.csv"
    source.write_text(header + "\nA;3,network\n", encoding="utf-8")
    code, _, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and str(source) in err
    assert all(n in err for n in needles), err


def test_a_single_column_csv_needs_no_separator(capsys, tmp_path):
    source = tmp_path / "p.csv"
    source.write_text("employees\n12\n3\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(out))[0] == 0
    assert [line["size_class"] for line in lines_of(out)] == ["PE", None]


# -- 6. row numbers after a multi-line cell ------------------------------------------------------------

def test_row_numbers_are_the_line_where_the_record_starts(capsys, tmp_path):
    source = tmp_path / "p.csv"
    source.write_text('name,employees,goals\n"Alpha\nSARL",12,network\nBeta,douze,network\n'
                      '"Gamma\r\n\r\nSPA",30,network\nDelta,-,network\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(source), "-o", str(out))
    assert code == 0
    lines = lines_of(out)
    assert [line["row"] for line in lines] == [2, 4, 5, 8]
    assert lines[0]["name"] == "Alpha\nSARL" and "error" in lines[1] and "error" in lines[3]
    assert f"{source}: row 4:" in err and f"{source}: row 8:" in err


# -- 7. --jobs is capped -------------------------------------------------------------------------------

def test_jobs_above_the_machine_are_capped_with_a_notice(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(batch_workers, "_cpus", lambda: 1)
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(6, seed=10))
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "32")
    assert code == 0, err
    assert "--jobs 32" in err and "using 4" in err and "Traceback" not in err
    assert [line["row"] for line in lines_of(out)] == list(range(1, 7))
    monkeypatch.setattr(batch_workers, "_cpus", lambda: 64)
    jobs, notice = batch_workers.worker_count(500)
    assert jobs == 64 and "using 64" in notice and "never more than 64" in notice
    assert batch_workers.worker_count(2) == (2, None)
    code, _, err = run(capsys, "batch", str(source), "-o", str(out), "--jobs", "0")
    assert code == 2 and one_clean_line(err) and "--jobs" in err


# -- 8. JSONL hygiene ----------------------------------------------------------------------------------

def test_jsonl_surrogates_line_separators_and_duplicate_keys(capsys, tmp_path):
    source = tmp_path / "p.jsonl"
    source.write_bytes(b'{"employees": 12, "name": "Alpha"}\n'
                       b'{"employees": 12, "name": "Beta \\ud800"}\n'
                       + '{"employees": 30, "name": "Gamma\u2028Delta\u2029SPA"}\n'.encode("utf-8")
                       + b'{"employees": 3, "employees": 40}\n'
                       b'\r\n'
                       b'{"employees": 50, "name": "Epsilon"}\r\n')
    out = tmp_path / "out.jsonl"
    code, stdout, err = run(capsys, "batch", str(source), "-o", str(out), "--lang", "en")
    assert code == 0, err
    lines = lines_of(out)
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 6]
    assert ["error" in line for line in lines] == [False, True, False, True, False]
    assert "surrogate" in lines[1]["error"] and "\\ud800" in lines[1]["error"]
    assert lines[2]["name"] == "Gamma\u2028Delta\u2029SPA"
    assert "duplicate key 'employees'" in lines[3]["error"]
    assert "internal error" not in err and "Traceback" not in err
    assert "3 companies assessed, 2 rows rejected (5 rows read)" in stdout


# -- 9. the summary's counts follow --lang -------------------------------------------------------------

@pytest.mark.parametrize("lang, text", [("fr", "2 entreprises évaluées, 3 lignes rejetées (5 lignes lues)"),
                                        ("en", "2 companies assessed, 3 rows rejected (5 rows read)")])
def test_summary_counts_in_each_language(capsys, tmp_path, lang, text):
    source = tmp_path / "p.csv"
    source.write_text(BAD_ROWS_CSV, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, stdout, _ = run(capsys, "batch", str(source), "-o", str(out), "--lang", lang)
    assert code == 0 and stdout.startswith(text)
    summary = json.loads((tmp_path / "out.summary.json").read_text(encoding="utf-8"))
    assert (summary["rows"], summary["assessed"], summary["errors"]) == (5, 2, 3)


# -- 10. the output file -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_output_to_standard_output(capsys, tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PNMAN_PROGRESS", "1")                 # the progress bar goes to stderr, never into the results
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(4, seed=11))
    code, stdout, err = run(capsys, "batch", str(source), "-o", target, "--lang", "en")
    assert code == 0, err
    assert [json.loads(line)["row"] for line in stdout.split("\n") if line] == [1, 2, 3, 4]
    assert "4 companies assessed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl"]      # no "-" file, no summary.json


def test_non_regular_outputs_are_refused(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(2, seed=11))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "null.jsonl"
    link.symlink_to(os.devnull)
    for target in (fifo, link, tmp_path):
        code, _, err = run(capsys, "batch", str(source), "-o", str(target))
        assert code == 2 and one_clean_line(err) and str(target) in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    code, _, err = run(capsys, "batch", str(source), "-o", str(source))
    assert code == 2 and one_clean_line(err) and "input" in err


def test_existing_permissions_are_kept(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(2, seed=11))
    out, summary = tmp_path / "out.jsonl", tmp_path / "out.summary.json"
    out.write_text("old\n", encoding="utf-8")
    summary.write_text("{}\n", encoding="utf-8")
    os.chmod(out, 0o600)
    os.chmod(summary, 0o640)
    assert run(capsys, "batch", str(source), "-o", str(out))[0] == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600 and stat.S_IMODE(os.stat(summary).st_mode) == 0o640
    assert len(lines_of(out)) == 2


def test_temporary_and_summary_files_never_follow_links(capsys, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", portfolio(2, seed=11))
    victims = {}
    for name in ("out.summary.json", ".out.jsonl.tmp", "out.jsonl.partial"):
        victim = tmp_path / f"victim-{name.strip('.')}"
        victim.write_text("precious\n", encoding="utf-8")
        (tmp_path / name).symlink_to(victim)
        victims[name] = victim
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(source), "-o", str(out))
    assert code == 0, err
    assert all(v.read_text(encoding="utf-8") == "precious\n" for v in victims.values())
    assert not out.is_symlink() and len(lines_of(out)) == 2
    summary = tmp_path / "out.summary.json"
    assert not summary.is_symlink() and json.loads(summary.read_text(encoding="utf-8"))["rows"] == 2


def test_csv_reader_module_behaviour_it_relies_on():
    """csv.reader.line_num counts the physical lines read: the row numbers depend on it."""
    reader = csv.reader(iter(["a,b\n", '"x\n', 'y",1\n', "c,d\n"]))
    next(reader)
    assert reader.line_num == 1
    next(reader)
    assert reader.line_num == 3


def test_an_over_long_line_never_loads_into_memory(capsys, tmp_path):
    source = tmp_path / "p.csv"
    source.write_text("name,employees\nA,12\n" + "x" * 1_500_000 + ",3\nB,4\n", encoding="utf-8")
    code, _, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "o.jsonl"))
    assert code == 2 and one_clean_line(err) and "line 3 is longer than 1 MB" in err
    source = tmp_path / "p.jsonl"
    source.write_text('{"employees": 12}\n{"name": "' + "x" * 1_500_000 + '", "employees": 3}\n{"employees": 4}',
                      encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert run(capsys, "batch", str(source), "-o", str(out))[0] == 0
    assert [("error" in line, line["row"]) for line in lines_of(out)] == [(False, 1), (True, 2), (False, 3)]


def test_help_documents_resume_and_the_separators(capsys):
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--resume" in text and "OUTPUT.partial" in text and "OUTPUT.lock" in text
    assert "with ';' in a ','-separated file" in text and "with ',' in a ';'-separated file" in text


@pytest.mark.parametrize("lang, words", [("en", "line longer than"), ("fr", "ligne de plus de"), ("ar", "سطر يتجاوز")])
def test_an_over_long_jsonl_row_is_refused_in_the_readers_language(capsys, tmp_path, monkeypatch, lang, words):
    source = tmp_path / "p.jsonl"
    source.write_text('{"name": "' + "x" * 1_500_000 + '", "employees": 3}\n', encoding="utf-8")
    out = tmp_path / "o.jsonl"
    monkeypatch.setenv("PNMAN_LANG", lang)
    assert run(capsys, "batch", str(source), "-o", str(out))[0] == 0
    (line,) = lines_of(out)
    assert line["row"] == 1 and line["error"].startswith(words), line["error"]


FREEZE_PROBE = """
import gc
from bench.portfolio import profiles
from pnman.interview.cli.batch import assessing
rows = [(n + 2, p) for n, p in enumerate(profiles(40, seed=5))]
rows += [(50, {"employees": "x"}), (51, "not a profile"), (52, {"employees": 3, "goals": ["nonsense"]})]
import tempfile
from pathlib import Path
from pnman.records.store import RegistryStore
folder = Path(tempfile.mkdtemp())
line, seen = assessing._line, []
assessing._line = lambda item: (seen.append(gc.get_freeze_count()), line(item))[1]
for full, record in ((False, False), (True, False), (False, True), (True, True)):
    store = RegistryStore(folder / f"{full}.sqlite3", durable=False) if record else None
    assessing.init_worker(full, "ar", store=store, portfolio="sha256:" + "e" * 64 if record else None)
    assessing.assess_rows(rows[:3])         # the knowledge's lazy tables made (and the registry)
    gc.unfreeze()
    gc.collect()
    seen.clear()
    data, errors, summary = assessing.assess_rows(rows)
    assert len(errors) == 3 and summary.rows == len(rows) and data.count(b"\\n") == len(rows)
    assert seen[0] == 0 and len(set(seen)) > len(seen) // 2, seen     # what each row leaves, frozen after it
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    print(full, frozen, gc.collect())
"""


def test_a_chunk_freezes_what_it_leaves_alive_and_leaves_no_garbage_cycle():
    """assess_rows moves what each row and the chunk leave alive out of the collector's sight
    (gc.freeze); a garbage cycle frozen would stay until the process ends, so a chunk of good
    and rejected rows, compact and full, without and with --record, must leave none behind."""
    done = subprocess.run([sys.executable, "-c", FREEZE_PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert len(done.stdout.split()) == 12, done.stdout      # compact and full, without and with --record
    for line, full in zip(done.stdout.split("\n"), ("False", "True", "False", "True")):
        shown, frozen, collected = line.split()
        assert shown == full and int(frozen) > 10_000 and int(collected) == 0, done.stdout
