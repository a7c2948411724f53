"""Benchmark (figures, not a test): `pnman impact` on a generated portfolio.

Generates N random valid company profiles (bench/portfolio.py's generator, a CSV), puts
the fictitious test edition (tests/editions/2027-test.yaml) in a temporary editions
folder ($PNMAN_EDITIONS), and runs `pnman impact PORTFOLIO --from base --to 2027-test`
with its progress bar on stderr, once per --jobs value; prints wall and CPU time (the
command and its worker processes), rows per second and the summary's main figures.

    .venv/bin/python bench/impact_bench.py [--count 10000] [--jobs 1 2] [--seed 4]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402

EDITION = ROOT / "tests" / "editions" / "2027-test.yaml"


def run_impact(source: Path, output: Path, jobs: int, env: dict) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the command and its children, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pnman", "impact", str(source), "--from", "base",
                           "--to", "2027-test", "--jobs", str(jobs), "--format", "json", "-o", str(output)],
                          cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pnman-impact-") as tmp:
        folder = Path(tmp)
        editions = folder / "editions"
        editions.mkdir()
        shutil.copy(EDITION, editions / EDITION.name)
        source = folder / "portfolio.csv"
        start = time.perf_counter()
        portfolio.write_csv(source, portfolio.profiles(args.count, args.seed))
        print(f"portfolio: {args.count} companies generated in {time.perf_counter() - start:.1f} s ({source.name})")
        env = dict(os.environ, PNMAN_EDITIONS=str(editions), PNMAN_PROGRESS="1", PYTHONPATH=str(ROOT))
        for jobs in args.jobs:
            output = folder / f"impact-{jobs}.jsonl"
            wall, cpu, code = run_impact(source, output, jobs, env)
            if code != 0:
                print(f"--jobs {jobs}: pnman impact ended with exit code {code}")
                return code
            summary = json.loads(output.read_text(encoding="utf-8").rsplit("\n", 2)[-2])["summary"]
            inv = summary["totals"]
            print(f"--jobs {jobs}: wall {wall:.2f} s, CPU {cpu:.2f} s, {summary['rows'] / wall:,.0f} companies/s; "
                  f"{summary['affected']} of {summary['assessed']} affected, {summary['errors']} rejected; "
                  f"investment ceilings {inv['from']['investment_da_ht']['max']:,} → "
                  f"{inv['to']['investment_da_ht']['max']:,} DA HT; coaching days "
                  f"{inv['from']['coaching_days']['max']:,} → {inv['to']['coaching_days']['max']:,} (max)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
