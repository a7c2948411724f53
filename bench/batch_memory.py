"""Peak memory of `pnman batch` (figures, not a test): 1,000 / 10,000 / 100,000 rows.

    .venv/bin/python bench/batch_memory.py [--sizes 1000 10000 100000] [--jobs 1 2] [--format csv]
                                           [--output-format jsonl]

--format xlsx reads an Excel workbook; --output-format xlsx writes one (streamed at the end).

Each run is a fresh `python -m pnman batch` process. Two figures per run:
- main: the peak RSS (VmHWM) of the batch's main process, which reads the input and
  writes the output (read from /proc/PID/status until it exits);
- largest: the largest peak RSS of any process of the run, main or worker
  (getrusage(RUSAGE_CHILDREN).ru_maxrss, measured in a fresh wrapper process so that
  earlier runs do not count).
The input must stay out of memory: both figures should not grow with the row count.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _vm_hwm(pid: int) -> int | None:
    """Peak RSS in KiB of a live process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def measure(source: str, output: str, jobs: int) -> dict:
    """Run one batch as a child of this (fresh) process and report its memory and time."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "batch", source, "-o", output,
                             "--jobs", str(jobs)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main_peak = 0
    while proc.poll() is None:
        main_peak = max(main_peak, _vm_hwm(proc.pid) or 0)
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {stderr}")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss     # KiB on Linux
    return {"seconds": elapsed, "main_mib": main_peak / 1024, "largest_mib": largest / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--format", choices=("csv", "jsonl", "xlsx"), default="csv")
    parser.add_argument("--output-format", choices=("jsonl", "xlsx"), default="jsonl")
    parser.add_argument("--measure", nargs=3, metavar=("SOURCE", "OUTPUT", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:            # the fresh wrapper process of one run
        source, output, jobs = args.measure
        print(json.dumps(measure(source, output, int(jobs))))
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            source = Path(tmp) / f"portfolio-{size}.{args.format}"
            subprocess.run([sys.executable, str(ROOT / "bench" / "portfolio.py"), str(size), "-o", str(source)],
                           check=True)
            for jobs in args.jobs:
                out = Path(tmp) / f"out-{size}-{jobs}.{args.output_format}"
                done = subprocess.run([sys.executable, __file__, "--measure", str(source), str(out), str(jobs)],
                                      capture_output=True, text=True, check=True)
                figures = json.loads(done.stdout)
                print(f"pnman batch {size:>7} rows ({args.format} → {args.output_format}), --jobs {jobs}: peak RSS main process "
                      f"{figures['main_mib']:6.1f} MiB, largest process {figures['largest_mib']:6.1f} MiB, "
                      f"{figures['seconds']:7.1f} s ({size / figures['seconds']:.0f} rows/s)", flush=True)
                out.unlink()


if __name__ == "__main__":
    main()
