"""`pnman batch` of this checkout beside another one's (a baseline: main before a change), in
the same run (figures, not tests): the same portfolio, runs alternated A, B, B, A, …, CPU time
of all the command's processes (start-up included) beside wall time, min and median of each.
Each checkout runs with its own interpreter (its .venv), so each runs its own code; the
output files of the two are compared byte for byte (a registry's entries too, but for the
random entry ids and the times).

    .venv/bin/python bench/batch_against.py --baseline /work/main [--rows 2000] [--rounds 5] [--full] [--record]
        [--jobs 1] [--folder /dev/shm]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402
from bench.bytecode import compile_checkout  # noqa: E402


def _python(checkout: Path) -> str:
    python = checkout / ".venv" / "bin" / "python"
    return str(python) if python.exists() else sys.executable


def run(checkout: Path, source: Path, out: Path, options: list[str]) -> tuple[float, float]:
    """(CPU s of all processes, wall s) of one `pnman batch` of `checkout`."""
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run([_python(checkout), "-m", "pnman", "batch", str(source), "-o", str(out), *options], cwd=checkout,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def entries(path: Path) -> list[tuple]:
    """A registry's entries as what must not change: kind, payload and index columns, without
    what differs from run to run (the registry block: ids are random; the record's time, and
    so its hash: `registry verify` checks those)."""
    import orjson
    conn = sqlite3.connect(path)
    try:
        found = []
        for kind, blob, name, size, plan, digest in conn.execute(
                "SELECT kind, payload, name, size_class, plan, digest FROM entries ORDER BY seq"):
            payload = orjson.loads(zlib.decompress(blob))
            for key in ("registry", "timestamp", "record_hash"):
                payload["record"].pop(key, None)
            found.append((kind, orjson.dumps(payload, option=orjson.OPT_SORT_KEYS), name, size, plan, digest))
        return found
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout (with its .venv)")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--folder", type=Path, help="where the runs write (e.g. /dev/shm: no disk write-back "
                                                    "of one run's output in the next run's CPU)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pnman-batch-against-", dir=args.folder))
    try:
        compare(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compare(args, folder: Path) -> None:
    source = folder / "portfolio.csv"
    portfolio.write_csv(source, portfolio.profiles(args.rows, seed=8))
    checkouts = {"this": ROOT, "baseline": args.baseline.resolve()}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
    options = ["--jobs", str(args.jobs)] + (["--full"] if args.full else [])
    label = f"pnman batch {' '.join(options)}{' --record' if args.record else ''}, {args.rows} rows"
    print(f"{label}; {os.cpu_count()} cores; CPU of all processes, start-up included, per row")
    for checkout in checkouts.values():
        print(compile_checkout(checkout, _python(checkout)))
    for round_ in range(args.rounds):
        for name in (checkouts if round_ % 2 == 0 else reversed(list(checkouts))):
            out = folder / f"{name}.jsonl"
            registry = folder / f"{name}.sqlite3"
            for stale in (out, registry, Path(f"{registry}-wal"), Path(f"{registry}-shm")):
                stale.unlink(missing_ok=True)
            extra = ["--record", "--registry", str(registry)] if args.record else []
            cpu, wall = run(checkouts[name], source, out, options + extra)
            figures[name].append((cpu, wall))
            print(f"  {name:8s} {1000 * cpu / args.rows:6.3f} ms CPU/row  {1000 * wall / args.rows:6.3f} ms wall/row",
                  flush=True)
    for name, runs in figures.items():
        cpus = [1000 * cpu / args.rows for cpu, _ in runs]
        walls = [1000 * wall / args.rows for _, wall in runs]
        print(f"{name:8s} CPU/row min {min(cpus):6.3f} median {statistics.median(cpus):6.3f} ms   "
              f"wall/row min {min(walls):6.3f} median {statistics.median(walls):6.3f} ms")
    same = (folder / "this.jsonl").read_bytes() == (folder / "baseline.jsonl").read_bytes()
    if not args.record:
        print("output lines byte-identical:", same)
    else:       # --record lines name their entries (random ids): the records themselves are compared
        print("registry entries identical (payloads, index columns; ids and times aside):",
              entries(folder / "this.sqlite3") == entries(folder / "baseline.sqlite3"))


if __name__ == "__main__":
    main()
