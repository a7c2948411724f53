"""A worker's results cross to the main process as a small pickled message and the output
lines as raw bytes (interview/cli/batch/workers.py: send_part / receive_part): the same lines,
errors and summary come out, whatever their size, and a worker that ends in the middle of its
lines is an end of file (the main process then gives its rows again), never half a chunk."""
from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from pnman.interview.cli.batch.summary import Summary
from pnman.interview.cli.batch.workers import receive_part, send_part


def _part(size: int):
    summary = Summary()
    summary.add({"statuses": {"1": "eligible"}, "totals": {"investment_da_ht": {"min": 1, "max": 2},
                                                          "coaching_days": {"min": 0, "max": 3}}, "blocking": ["a"]})
    lines = b"".join(b'{"row":%d,"x":"%s"}\n' % (n, os.urandom(40).hex().encode()) for n in range(size))
    return lines, [(3, "key 'employees': not a number")], summary


@pytest.mark.parametrize("rows", [0, 1, 40_000])         # 40,000 lines: 4 MB, many times a socket's buffer
def test_a_part_comes_back_whole_and_only_its_summary_is_pickled(rows):
    sent = _part(rows)
    mine, theirs = multiprocessing.Pipe()
    messages = []
    writer = threading.Thread(target=send_part, args=(mine, sent))
    writer.start()
    first = theirs.recv_bytes()
    messages.append(first)
    lines, errors, summary = receive_part(theirs, first)
    writer.join()
    assert bytes(lines) == sent[0] and errors == sent[1]
    assert (summary.rows, summary.statuses, summary.investment, summary.blocking) == \
        (sent[2].rows, sent[2].statuses, sent[2].investment, sent[2].blocking)
    assert len(first) < 1000                     # the lines were not pickled
    assert not theirs.poll()                     # nothing left over for the next message


def test_a_worker_that_ends_in_the_middle_of_its_lines_is_an_end_of_file():
    lines, errors, summary = _part(5_000)
    mine, theirs = multiprocessing.Pipe()

    def send_half():
        import pickle
        mine.send_bytes(pickle.dumps((len(lines), (errors, summary)), pickle.HIGHEST_PROTOCOL))
        mine.send_bytes(lines[: len(lines) // 2])  # framed or not: cut short
        mine.close()

    writer = threading.Thread(target=send_half)
    writer.start()
    first = theirs.recv_bytes()
    with pytest.raises(EOFError):
        receive_part(theirs, first)
    writer.join()


@pytest.mark.parametrize("options", [["--full", "--jobs", "2"], ["--record"]])
def test_the_batch_against_bench_runs_and_compares_the_outputs(options):
    """bench/batch_against.py runs a checkout beside a baseline (here itself) and says whether
    the outputs are the same: they are."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "bench" / "batch_against.py"), "--baseline", str(root),
                           "--rows", "12", "--rounds", "1", *options], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-3].startswith("this ") and "ms CPU/row" in lines[-5] and lines[-2].startswith("baseline ")
    assert lines[-1].endswith(": True"), lines[-1]
