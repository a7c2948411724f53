"""Benchmark of the dashboard (figures, not tests): a registry of N assessment entries
(default 100,000: real localised records of 400 generated profiles, spread over 180 days,
with an override on about 1 % of them), then the wall and CPU time of

- with --index-once, building the index once for a registry made before it (its tables
  dropped first: a registry built here has it, every append keeps it in its own transaction),
- the dashboard's figures (every chart, the impact between two editions) without filter
  and with a date range and a size class,
- `GET /dashboard` and `GET /dashboard.json` through the application.

    .venv/bin/python bench/dashboard_bench.py [--entries 100000] [--keep DIR]

With --keep, the registry is built once in DIR and reused by the next runs.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402
from pnman.records import append as append_module  # noqa: E402
from pnman.engine.facade import assess  # noqa: E402
from pnman.records.registry import Registry  # noqa: E402
from pnman.interview.render.l10n import Words, localise  # noqa: E402
from pnman.knowledge import default  # noqa: E402
from pnman.knowledge.profile import check_profile  # noqa: E402

DAYS = 180


class Clock:
    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        print(f"{self.label:<58} {wall:8.3f} s wall {cpu:8.3f} s CPU")


def build(path: Path, entries: int) -> None:
    """A registry of `entries` assessments whose times are spread over DAYS days."""
    kb = default()
    words = Words("fr", kb)
    records = [localise(assess(check_profile(p, kb), kb).record(), words) for p in portfolio.profiles(400, seed=9)]
    start = datetime(2026, 6, 1, tzinfo=timezone.utc)
    clock = itertools.count()
    append_module.timestamp = lambda: (start + timedelta(seconds=next(clock) * DAYS * 86400 // entries)) \
        .isoformat(timespec="microseconds")
    done = 0
    with Registry(path, durable=False) as registry:
        while done < entries:
            count = min(1000, entries - done)
            appended = registry.append_assessments([records[(done + i) % len(records)] for i in range(count)])
            for entry in appended[::97]:        # about 1 %: a diagnostician's override
                record = entry.payload["record"]
                fiche = next((f for f in record["fiches"] if f["status"] == "ineligible"), None)
                if fiche is not None:
                    registry.add_override(entry.id, fiche=fiche["fiche"], status="eligible", reason="document_evidence",
                                          justification="Pièces justificatives fournies après l'évaluation.",
                                          by="bench")
            done += count
            print(f"\r  built {done:,} / {entries:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--keep", help="build the registry in this folder and reuse it")
    parser.add_argument("--index-once", action="store_true",
                        help="also drop the index and build it again: what a registry made before it costs, once")
    args = parser.parse_args()
    os.environ.setdefault("PNMAN_EDITIONS", str(ROOT / "tests" / "editions"))
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pnman-dashboard-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"registry-{args.entries}.sqlite3"
    if not path.exists():
        with Clock(f"build a registry of {args.entries:,} entries (not the dashboard)"):
            build(path, args.entries)

    from fastapi.testclient import TestClient

    from pnman.interview.web.app import Settings, create_app
    from pnman.interview.web.dashboard import Filters, figures
    from pnman.interview.web.dashboard_index import DashboardIndex
    from pnman.knowledge.editions import knowledge_for

    if args.index_once:
        import sqlite3
        conn = sqlite3.connect(path, isolation_level=None)      # the registry as an older pnman left it
        for name in ("index_state", "index_assessments", "index_fiche_status", "index_overrides"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.close()
        with Registry(path) as registry, Clock(f"index: built once for {args.entries:,} entries made before it"):
            registry.build_index(lambda done, total: print(f"\r  indexed {done:,} / {total:,}", end="",
                                                           file=sys.stderr, flush=True))
        print(file=sys.stderr)
    index = DashboardIndex(path)
    with Clock("index: lag read by a request (appends keep the index)"):
        with index.reading() as (_, behind):
            assert behind == 0
    whole = Filters(before="base", after="2027-test")
    narrow = Filters(since="2026-07-01", until="2026-09-30", sizes=("PE",), before="base", after="2027-test")
    for label, filters in (("figures, no filter", whole), ("figures, 3 months and size PE", narrow)):
        for _ in range(2):
            with Clock(label) as clock:
                data = figures(index, filters, knowledge_for)
        print(f"{'':<58} {data['assessments']:,} assessments, {len(data['over_time']['points'])} periods, "
              f"{data['impact']['changed']:,} plans changed")
    index.close()
    client = TestClient(create_app(Settings(kb=default(), sessions=folder / "sessions", registry=path)),
                        base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000))     # the operator, on loopback
    client.get("/dashboard.json")
    for url in ("/dashboard", "/dashboard.json", "/dashboard?lang=ar&since=2026-07-01&until=2026-09-30&size=PE"):
        with Clock(f"GET {url[:50]}"):
            response = client.get(url)
        assert response.status_code == 200, response.text[:200]
    return 0


if __name__ == "__main__":
    sys.exit(main())
