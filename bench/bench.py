"""Benchmarks (figures, not tests), CPU time beside wall time, each beside its baseline in
the same run:
- the full record in-process (trace and digest) — baseline: durable's Python Host and
  glibc's default malloc, the same code otherwise;
- `pnman --help`, `pnman --version` and `pnman assess` from a fresh process, all CPU
  counted (start-up included) — baseline: the bare interpreter (`python -c pass`);
- `pnman batch` on 1,000 and 10,000 rows with 1 and 2 workers, and `batch --full --jobs 1`
  on 2,000 rows, CPU of all processes per row (memory: bench/batch_memory.py).

    .venv/bin/python bench/bench.py [--sizes 1000 10000] [--full 2000] [--rounds 3]
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
from bench.bytecode import compile_checkout  # noqa: E402


IN_PROCESS = """
import resource, sys, time
sys.path.insert(0, {root!r})
from pnman.rules import evaluate, runtime
if {baseline}:   # durable's Python Host (timer threads on) and glibc's default malloc, as before
    runtime.tune_malloc = lambda: False
    runtime.RuleEngine = runtime.HostEngine      # rules/engines.engine_for takes the driver from runtime
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


def batch(size: int, jobs: int, folder: Path, full: bool = False) -> tuple[float, float, float]:
    """(rows/s wall, ms CPU per row of all the run's processes, largest peak RSS MiB so far)."""
    source = folder / f"portfolio-{size}.csv"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "portfolio.py"), str(size), "-o", str(source)], check=True)
    out = folder / f"out-{size}-{jobs}.jsonl"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pnman", "batch", str(source), "-o", str(out),
                           "--jobs", str(jobs)] + (["--full"] if full else []), cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime + usage.ru_stime) - (before.ru_utime + before.ru_stime)
    return size / elapsed, cpu / size * 1000, usage.ru_maxrss / 1024


def cold_start(arguments: list[str], runs: int = 7, command: list[str] | None = None) -> tuple[float, float]:
    """(median CPU s, median wall s) of a fresh `pnman ARGUMENTS` (the console script when
    installed), all its CPU counted: start-up, imports, work."""
    if command is None:
        pnman = Path(sys.executable).with_name("pnman")
        command = [str(pnman)] if pnman.exists() else [sys.executable, "-m", "pnman"]
    cpus, walls = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command + arguments, cwd=ROOT, capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(cpus), statistics.median(walls)


def _spread(values: list[float]) -> str:
    return f"min {min(values):6.3f}  median {statistics.median(values):6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--full", type=int, default=2000, help="rows of the `batch --full --jobs 1` run (0: none)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each in-process and batch figure, pnman and baseline alternated (min, median)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; each figure over {args.rounds} "
          f"round(s), alternated with its baseline: min and median (a shared machine only ever adds)")
    print(compile_checkout(ROOT))
    print("in-process, full record (trace and digest), 2,000 profiles:")
    labels = (("pnman (durable's C interface, malloc tuned)", False),
              ("baseline (durable's Python Host, glibc defaults)", True))
    runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _ in labels}
    for round_ in range(args.rounds):
        for label, baseline in (labels if round_ % 2 == 0 else labels[::-1]):
            runs[label].append(in_process(2000, baseline))
    for label, _ in labels:
        cpu = [cpu_ms for _, cpu_ms, _ in runs[label]]
        wall = [1000 / rate for rate, _, _ in runs[label]]
        faults = statistics.median(f for _, _, f in runs[label])
        print(f"  {label:50s} {_spread(cpu)} ms CPU/record  wall min {min(wall):6.3f} ms  {faults:5.0f} page faults/record")
    example = str(ROOT / "examples" / "pme-industrielle.yaml")
    print("from a fresh process, median of 7 (CPU of the process, start-up included):")
    for label, arguments, command in (("baseline: python -c pass", ["-c", "pass"], [sys.executable]),
                                      ("pnman --help", ["--help"], None), ("pnman --version", ["--version"], None),
                                      ("pnman assess (json)", ["assess", example, "--format", "json"], None)):
        cpu, wall = cold_start(arguments, command=command)
        print(f"  {label:50s} {1000 * cpu:6.0f} ms CPU  {1000 * wall:6.0f} ms wall")
    print("pnman batch (all processes' CPU per row, start-up included):")
    with tempfile.TemporaryDirectory() as tmp:
        plans = [(size, jobs, False) for size in args.sizes for jobs in (1, 2)]
        plans += [(args.full, 1, True)] if args.full else []
        for size, jobs, full in plans:
            figures = [batch(size, jobs, Path(tmp), full) for _ in range(args.rounds)]
            label = f"{size:>6} rows, --jobs {jobs}{' --full' if full else ''}"
            print(f"  {label:50s} {_spread([cpu_ms for _, cpu_ms, _ in figures])} ms CPU/row  "
                  f"{max(rate for rate, _, _ in figures):7.0f} rows/s (wall, start-up included, best)")


if __name__ == "__main__":
    main()
