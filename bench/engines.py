"""The two rules engines side by side, in one run: CPU and wall time per engine session and
per full record (evaluation, plan, record with its digest), on the same random profiles.

    .venv/bin/python bench/engines.py [--profiles 1000] [--rounds 3]

Figures, not a test (tests/test_engines.py proves the two decide alike). Each engine is
warmed up first; the rounds alternate engines so that a noisy neighbour hurts both.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import os

    from bench.portfolio import profiles
    from pnman.engine.facade import assess
    from pnman.knowledge import default
    from pnman.knowledge.profile import check_profile
    from pnman.rules import engines
    from pnman.rules.evaluate import profile_facts

    kb = default()
    sample = [check_profile(p, kb) for p in profiles(args.profiles, seed=11)]
    facts = [profile_facts(p, kb) for p in sample]
    names = [name for name in engines.ENGINES if engines.available(name)]
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def measure(name: str, what: str, work) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        n = len(sample)
        figures.setdefault((name, what), []).append(((time.process_time() - cpu) / n * 1e3,
                                                     (time.perf_counter() - wall) / n * 1e3))

    for name in names:          # warm up: compile the rules, fill the caches
        os.environ[engines.ENVIRONMENT] = name
        for p in sample[:50]:
            assess(p, kb).record(timestamp="t")
    for _ in range(args.rounds):
        for name in names:
            os.environ[engines.ENVIRONMENT] = name
            engine = engines.engine_for(kb, name)
            measure(name, "engine session", lambda: [engine.run(f) for f in facts])
            measure(name, "full record", lambda: [assess(p, kb).record(timestamp="t") for p in sample])
    print(f"{len(sample)} profiles, {args.rounds} rounds, Python {sys.version.split()[0]}; "
          f"ms per profile, median of rounds (min–max)")
    print(f"{'engine':<26} {'measure':<15} {'CPU ms':>18} {'wall ms':>18}")
    for (name, what), values in figures.items():
        cpu = [c for c, _ in values]
        wall = [w for _, w in values]
        print(f"{engines.describe(name):<26} {what:<15} "
              f"{statistics.median(cpu):>7.3f} ({min(cpu):.3f}–{max(cpu):.3f}) "
              f"{statistics.median(wall):>7.3f} ({min(wall):.3f}–{max(wall):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
