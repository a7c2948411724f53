"""Benchmark of the assessment registry (figures, not tests): wall and CPU time to append
entries one transaction each (as `assess --record` and `batch --record` do), to verify,
list and export a registry of many entries, and the file's size per entry.

    .venv/bin/python bench/registry_bench.py [--appends 1000] [--verify 10000] [--keep DIR]

The records are real localised records (about 100 kB of JSON each, 8–12 kB stored) of
generated profiles; the registry is built in a temporary folder (or DIR).
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402
from pnman.engine.facade import assess  # noqa: E402
from pnman.records.registry import Registry  # noqa: E402
from pnman.interview.render.l10n import Words, localise  # noqa: E402
from pnman.knowledge import default  # noqa: E402
from pnman.knowledge.profile import check_profile  # noqa: E402


class Clock:
    def __init__(self, label: str, count: int):
        self.label, self.count = label, count

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        per = f"{1000 * wall / self.count:.3f} ms wall/entry" if self.count else ""
        print(f"{self.label:<44} wall {wall:7.2f} s  cpu {cpu:7.2f} s  {per}")


def records(count: int) -> list[dict]:
    kb = default()
    words = Words("fr", kb)
    distinct = [localise(assess(check_profile(p, kb), kb).record(), words)
                for p in portfolio.profiles(min(count, 200), seed=5)]
    return [distinct[i % len(distinct)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=1000, help="entries appended one transaction each")
    parser.add_argument("--verify", type=int, default=10000, help="entries in the registry verified, listed, exported")
    parser.add_argument("--keep", help="build the registries in this folder and keep them")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="pnman-registry-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    pool = records(max(args.appends, 200))
    size = sum(len(str(r)) for r in pool[:50]) / 50
    print(f"records: about {size / 1000:.0f} kB of JSON each; folder {folder}")

    path = folder / "appends.sqlite3"
    with Registry.open(path) as registry:
        with Clock(f"append {args.appends:,} (one transaction each)", args.appends):
            for record in pool[:args.appends]:
                registry.append_assessment(record)
    print(f"  file: {os.path.getsize(path) / args.appends / 1000:.1f} kB per entry")

    path = folder / "verify.sqlite3"
    with Registry.open(path) as registry:
        with Clock(f"append {args.verify:,} (transactions of 500)", args.verify):
            done = registry.count()
            while done < args.verify:
                chunk = min(500, args.verify - done)
                registry.append_assessments(pool[i % len(pool)] for i in range(done, done + chunk))
                done += chunk
        print(f"  file: {os.path.getsize(path) / 1e6:.0f} MB")
    with Registry.open(path, create=False) as registry:       # a cold open, as `pnman registry verify` does
        with Clock(f"verify {args.verify:,}", args.verify):
            report = registry.verify()
        assert report.ok, report
        with Clock(f"list {args.verify:,} (newest first)", args.verify):
            registry.list()
        with Clock(f"list --name (one match in {args.verify:,})", args.verify):
            registry.list(name="Entreprise 17")
        sink = io.BytesIO()
        with Clock(f"export {args.verify:,}", args.verify):
            registry.export(sink)
        print(f"  export: {len(sink.getvalue()) / 1e6:.0f} MB of JSON lines")
        first = registry.list(limit=1)[0].id
        with Clock("show one entry", 1):
            registry.show(first)


if __name__ == "__main__":
    main()
