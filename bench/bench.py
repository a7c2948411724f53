"""Benchmarks (figures, not tests): in-process assessments per second, batch throughput
with 1 and 2 worker processes on 1,000 and 10,000 profiles, CLI cold start, peak memory.

    .venv/bin/python bench/bench.py [--sizes 1000 10000]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402


def in_process(count: int) -> float:
    from engine.facade import assess
    from knowledge import default
    from knowledge.profile import check_profile
    kb = default()
    profiles = [check_profile(p, kb) for p in portfolio.profiles(count, seed=11)]
    assess(profiles[0], kb).record()            # warm the engine
    start = time.perf_counter()
    for profile in profiles:
        assess(profile, kb).record()
    return count / (time.perf_counter() - start)


def batch(size: int, jobs: int, folder: Path) -> tuple[float, float]:
    source = folder / f"portfolio-{size}.csv"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "portfolio.py"), str(size), "-o", str(source)], check=True)
    out = folder / f"out-{size}-{jobs}.jsonl"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "interview.cli", "batch", str(source), "-o", str(out),
                           "--jobs", str(jobs)], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return size / elapsed, usage.ru_maxrss / 1024


def cold_start(runs: int = 7) -> float:
    example = ROOT / "examples" / "pme-industrielle.yaml"
    pnman = Path(sys.executable).with_name("pnman")
    command = [str(pnman)] if pnman.exists() else [sys.executable, "-m", "interview.cli"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command + ["assess", str(example), "--format", "json"], cwd=ROOT,
                       capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"in-process assess (full result with trace and digest): {in_process(2000):8.0f} profiles/s")
    print(f"pnman assess cold start (median of 7):                  {cold_start():8.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for jobs in (1, 2):
                rate, peak = batch(size, jobs, Path(tmp))
                print(f"pnman batch {size:>6} profiles, --jobs {jobs}:              {rate:8.0f} profiles/s "
                      f"(wall clock incl. start-up; peak RSS of a process {peak:.0f} MiB)")


if __name__ == "__main__":
    main()
