"""Explanation benchmark (figures, not a test): the time `pnman explain` takes per record.

For each profile — the one-line profile `employees: 20` and a generated portfolio
(bench/portfolio.py) — the record is made once, then:
- `explain(record, N)` for every fiche N (what `pnman explain RESULT --fiche N` computes:
  the replay, the plan's reason, what it would take), timed one by one;
- `what_would_it_take` for all 27 fiches of the record together, timed as one.
Prints the worst, the 99th percentile and the median, CPU time with wall time beside it
(CPU time is what the code costs; wall time also counts what other processes take from
it; both count the garbage collector's passes, the rare outliers), the worst record, and
the rule evaluations "what would it take" ran. The target: any `explain` ≤ 50 ms.

    .venv/bin/python bench/explain.py [--count 300] [--seed 4]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portfolio  # noqa: E402
from pnman.engine.explain import explain, what_would_it_take  # noqa: E402
from pnman.engine.facade import assess  # noqa: E402
from pnman.knowledge import default  # noqa: E402
from pnman.knowledge.profile import check_profile  # noqa: E402

TARGET_MS = 50.0


def _timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _line(label: str, samples: list[tuple[float, float, str]]) -> str:
    walls = sorted(s[0] for s in samples)
    cpus = sorted(s[1] for s in samples)
    worst = max(samples, key=lambda s: s[1])
    p99 = cpus[min(len(cpus) - 1, int(len(cpus) * 0.99))]
    return (f"{label:<36} worst {worst[1]:6.2f} ms CPU ({worst[0]:6.2f} wall)   "
            f"p99 {p99:5.2f} CPU   median {statistics.median(cpus):5.2f} ms CPU "
            f"({statistics.median(walls):5.2f} wall)   [worst: {worst[2]}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300, help="generated profiles (default 300)")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    kb = default()
    named = [("employees: 20", {"employees": 20})]
    named += [(f"portfolio #{i + 1}", p) for i, p in enumerate(portfolio.profiles(args.count, seed=args.seed))]
    for _, profile in named[:20]:                             # warm the engine and the shared tables
        checked = dict(check_profile(profile, kb))
        for number in kb.fiches:
            what_would_it_take(checked, number, kb)

    # One record at a time, as `pnman explain` holds it: a heap of hundreds of records
    # would time the garbage collector's passes over them instead.
    per_fiche, per_record, runs = [], [], []
    for label, profile in named:
        checked = dict(check_profile(profile, kb))
        assessment = assess(checked, kb)
        record = assessment.record(timestamp="bench")
        for number in sorted(kb.fiches):
            _, wall, cpu = _timed(lambda: explain(record, number, kb))
            per_fiche.append((wall, cpu, f"{label}, fiche {number}"))

        def all_fiches():
            return [what_would_it_take(checked, n, kb, assessment.evaluation)["evaluations"] for n in kb.fiches]
        counts, wall, cpu = _timed(all_fiches)
        per_record.append((wall, cpu, label))
        runs.append((max(counts), sum(counts), label))

    one_line = [s for s in per_record if s[2] == "employees: 20"][0]
    one_line_fiches = [s for s in per_fiche if s[2].startswith("employees: 20,")]
    print(f"{len(named)} records ({args.count} generated, seed {args.seed}, and the one-line profile), "
          f"{len(per_fiche)} explanations")
    print(_line("explain(record, fiche)", per_fiche))
    print(_line("  the one-line profile employees: 20", one_line_fiches))
    print(_line("what_would_it_take, all 27 fiches", per_record))
    print(f"{'  the one-line profile employees: 20':<36} {one_line[1]:6.2f} ms CPU ({one_line[0]:.2f} wall)")
    worst_runs = max(runs)
    print(f"{'rule evaluations for one fiche':<36} worst {worst_runs[0]} [{worst_runs[2]}]; "
          f"for the 27 fiches of a record, median {statistics.median(r[1] for r in runs):.0f}, "
          f"worst {max(r[1] for r in runs)}")
    worst_cpu = max(s[1] for s in per_fiche)
    print(f"target: explain ≤ {TARGET_MS:.0f} ms for any record: {'met' if worst_cpu <= TARGET_MS else 'NOT met'} "
          f"(worst {worst_cpu:.2f} ms CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
