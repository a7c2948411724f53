"""What recording costs in `pnman batch` (figures, not tests): CPU beside wall time per row,
for a portfolio assessed without --record, with --record into a new registry, and rerun
with --record (every row found recorded already: nothing appended), one worker each so that
CPU is one process's; then, in-process, the registry's own share (chain hash, compression,
SQLite), without the assessment: a localised record appended alone, and 64 a transaction.

    .venv/bin/python bench/batch_record_bench.py [--rows 2000]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402
from bench.bytecode import compile_checkout  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_batch(label: str, argv: list[str], rows: int) -> tuple[float, float]:
    cpu, wall = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "pnman", "batch", *argv, "--jobs", "1"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu, wall = _children_cpu() - cpu, time.perf_counter() - wall
    print(f"{label:<46} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {1000 * cpu / rows:6.3f} ms CPU/row  "
          f"{1000 * wall / rows:6.3f} ms wall/row")
    return cpu, wall


def in_process_appends(folder: Path, count: int) -> None:
    """The registry's own share, as batch and the web pay it: each record made (not timed) just
    before it is kept, appended alone (the web) or 64 to a transaction (batch's chunks)."""
    from pnman.engine.facade import assess
    from pnman.engine.record import kept_parts
    from pnman.interview.render.l10n import Words, localise
    from pnman.knowledge import default
    from pnman.knowledge.profile import check_profile
    from pnman.records.store import RegistryStore
    kb = default()
    words = Words("fr", kb)
    assessments = [assess(check_profile(p, kb), kb) for p in portfolio.profiles(count, seed=9)]
    for label, chunk in (("registry append alone (in-process, with source)", 1),
                         ("registry append, 64 a transaction (as batch)", 64)):
        store = RegistryStore(folder / f"inprocess-{chunk}.sqlite3", durable=False)
        store.save(localise(assessments[0].record(), words))
        cpu = wall = 0.0
        for start in range(1, count, chunk):
            records, parts = [], []
            for assessment in assessments[start:start + chunk]:     # parts kept as each is made, as batch does
                records.append(localise(assessment.record(), words))
                parts.append(kept_parts(records[-1]))
            sources = [{"portfolio": "sha256:" + "0" * 64, "row": start + n} for n in range(len(records))]
            started, clock = time.process_time(), time.perf_counter()
            store.save_many(records, sources=sources, parts=parts)
            cpu += time.process_time() - started
            wall += time.perf_counter() - clock
        store.close()
        print(f"{label:<46} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {1000 * cpu / (count - 1):6.3f} ms CPU/row  "
              f"{1000 * wall / (count - 1):6.3f} ms wall/row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pnman-batch-record-bench-"))
    source = folder / "portfolio.csv"
    portfolio.write_csv(source, portfolio.profiles(args.rows, seed=8))
    registry = folder / "registry.sqlite3"
    print(f"{args.rows} rows, one worker, {os.cpu_count()} cores; CPU of the whole command (start-up included)")
    print(compile_checkout(ROOT))
    plain, _ = timed_batch("batch (no --record)", [str(source), "-o", str(folder / "plain.jsonl")], args.rows)
    recorded, _ = timed_batch("batch --record (new registry)", [str(source), "-o", str(folder / "rec.jsonl"),
                                                                 "--record", "--registry", str(registry)], args.rows)
    timed_batch("batch --record again (every row recorded before)", [str(source), "-o", str(folder / "again.jsonl"),
                                                                     "--record", "--registry", str(registry)],
                args.rows)
    print(f"recording's share: {1000 * (recorded - plain) / args.rows:.3f} ms CPU/row; "
          f"batch --record costs {recorded / plain:.2f}× batch")
    in_process_appends(folder, min(args.rows, 500))


if __name__ == "__main__":
    main()
