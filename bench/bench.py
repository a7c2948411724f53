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


IN_PROCESS = """
import resource, sys, time
sys.path.insert(0, {root!r})
from pnman.rules import evaluate, runtime
if {baseline}:   # durable's Python Host (timer threads on) and glibc's default malloc, as before
    runtime.tune_malloc = lambda: False
    evaluate.RuleEngine = runtime.HostEngine
from bench import portfolio
from pnman.engine.facade import assess
from pnman.knowledge import default
from pnman.knowledge.profile import check_profile
kb = default()
profiles = [check_profile(p, kb) for p in portfolio.profiles({count}, seed=11)]
for p in profiles[:50]:
    assess(p, kb).record()                      # warm the engine and the shared tables
faults, cpu, wall = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time(), time.perf_counter()
for p in profiles:
    assess(p, kb).record()
print(({count} / (time.perf_counter() - wall)), (time.process_time() - cpu) / {count} * 1000,
      (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / {count})
"""


def in_process(count: int, baseline: bool) -> tuple[float, float, float]:
    """(profiles/s wall, ms CPU per full record, page faults per record), in a fresh process."""
    code = IN_PROCESS.format(root=str(ROOT), baseline=baseline, count=count)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rate, cpu_ms, faults = map(float, done.stdout.split())
    return rate, cpu_ms, faults


def batch(size: int, jobs: int, folder: Path) -> tuple[float, float]:
    source = folder / f"portfolio-{size}.csv"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "portfolio.py"), str(size), "-o", str(source)], check=True)
    out = folder / f"out-{size}-{jobs}.jsonl"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out),
                           "--jobs", str(jobs)], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime + usage.ru_stime) - (before.ru_utime + before.ru_stime)
    return size / elapsed, cpu / size * 1000, usage.ru_maxrss / 1024


def cold_start(runs: int = 7) -> float:
    example = ROOT / "examples" / "pme-industrielle.yaml"
    pnman = Path(sys.executable).with_name("pnman")
    command = [str(pnman)] if pnman.exists() else [sys.executable, "-m", "pnman"]
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
    print("in-process, full record (trace and digest), 2,000 profiles:")
    for label, baseline in (("pnman (durable's C interface, malloc tuned)", False),
                            ("baseline (durable's Python Host, glibc defaults)", True)):
        rate, cpu_ms, faults = in_process(2000, baseline)
        print(f"  {label:50s} {cpu_ms:6.3f} ms CPU/record  {faults:6.0f} page faults/record  {rate:7.0f} records/s")
    print(f"pnman assess cold start (median of 7):                  {cold_start():8.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for jobs in (1, 2):
                rate, cpu_ms, peak = batch(size, jobs, Path(tmp))
                print(f"pnman batch {size:>6} profiles, --jobs {jobs}:              {rate:8.0f} profiles/s "
                      f"(wall clock incl. start-up; {cpu_ms:.3f} ms CPU/profile; memory: bench/batch_memory.py)")


if __name__ == "__main__":
    main()
