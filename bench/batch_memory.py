"""Peak memory of `pnman batch` (figures, not a test): 1,000 / 10,000 / 100,000 rows.

    .venv/bin/python bench/batch_memory.py [--sizes 1000 10000 100000] [--jobs 1 2] [--format csv]
                                           [--output-format jsonl]

--format xlsx reads an Excel workbook; --output-format xlsx writes one (streamed at the end).

Each run is a fresh `python -m pnman batch` process. Figures per run:
- main: the peak RSS (VmHWM) of the batch's main process, which reads the input and
  writes the output (read from /proc/PID/status until it exits);
- largest: the largest peak RSS of any process of the run, main or worker
  (getrusage(RUSAGE_CHILDREN).ru_maxrss, measured in a fresh wrapper process so that
  earlier runs do not count);
- whole run: the largest sum of the proportional set sizes (PSS: a page the forked
  workers share with the main process counts once in all) of the main process and its
  workers at one time (sampled every 50 ms, so a peak shorter than that can be missed);
- the CPU time of all the run's processes per row, beside the wall time.
Goals (issue 23): largest ≤ 120 MiB, whole run ≤ 250 MiB at 100,000 rows. The baseline,
in the same run, is the smallest size: memory should not grow with the row count.
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
sys.path.insert(0, str(ROOT))

from bench.bytecode import compile_checkout  # noqa: E402


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


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (the batch's workers)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _pss(pid: int) -> int:
    """Proportional resident memory in KiB of a live process, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def measure(source: str, output: str, jobs: int) -> dict:
    """Run one batch as a child of this (fresh) process and report its memory and time."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pnman", "batch", source, "-o", output,
                             "--jobs", str(jobs)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main_peak = whole_peak = 0
    while proc.poll() is None:
        main_peak = max(main_peak, _vm_hwm(proc.pid) or 0)
        whole_peak = max(whole_peak, _pss(proc.pid) + sum(_pss(child) for child in _children(proc.pid)))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": elapsed, "main_mib": main_peak / 1024, "largest_mib": usage.ru_maxrss / 1024,   # KiB on Linux
            "whole_mib": whole_peak / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


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
    print(compile_checkout(ROOT))
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
                      f"whole run {figures['whole_mib']:6.1f} MiB; {1000 * figures['cpu_s'] / size:.3f} ms CPU/row, "
                      f"{figures['seconds']:7.1f} s wall ({size / figures['seconds']:.0f} rows/s)", flush=True)
                out.unlink()


if __name__ == "__main__":
    main()
