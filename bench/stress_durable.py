"""Stress durable-rules the way that used to lose firings: many assessments with a tiny GIL
switch interval. Prints failures beside the baseline (durable's own timer threads on).

    .venv/bin/python bench/stress_durable.py 20000            # pnman's engine: expect 0 failures
    .venv/bin/python bench/stress_durable.py 8000 --baseline  # durable's Host with its timer threads

A failure is an exception (error 307, a lost action) or a record whose decision digest
differs from the one computed before the stress began. Figures, not a test: the marked
test tests/test_stress.py runs the same loop in CI.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stress(count: int, *, baseline: bool = False, switch: float = 1e-6, distinct: int = 200) -> dict:
    from bench.portfolio import profiles
    from pnman.engine.facade import assess
    from pnman.knowledge import default
    from pnman.knowledge.profile import check_profile
    from pnman.rules import runtime

    if baseline:   # durable's own Host, timer threads and all, as before the fix
        from durable import engine as durable_engine
        runtime.RuleEngine._host = durable_engine.Host()
    kb = default()
    sample = [check_profile(p, kb) for p in profiles(distinct, seed=5)]
    expected = [assess(p, kb).record(timestamp="t")["decision_digest"] for p in sample]
    failures, errors = 0, {}
    previous = sys.getswitchinterval()
    sys.setswitchinterval(switch)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        for i in range(count):
            k = i % distinct
            try:
                if assess(sample[k], kb).record(timestamp="t")["decision_digest"] != expected[k]:
                    failures += 1
                    errors["different decision"] = errors.get("different decision", 0) + 1
            except Exception as exc:  # noqa: BLE001 - counted: that is what the stress measures
                failures += 1
                key = type(exc).__name__ + ": " + str(exc)[:60]
                errors[key] = errors.get(key, 0) + 1
    finally:
        sys.setswitchinterval(previous)
    return {"assessments": count, "failures": failures, "errors": errors,
            "wall_s": round(time.perf_counter() - start, 1), "cpu_s": round(time.process_time() - cpu, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=20000)
    parser.add_argument("--baseline", action="store_true", help="durable's Host with its timer threads")
    args = parser.parse_args()
    result = stress(args.count, baseline=args.baseline)
    mode = "baseline (durable timer threads on)" if args.baseline else "pnman (timer threads never started)"
    print(f"{mode}: {result['failures']} failures in {result['assessments']} assessments "
          f"({result['wall_s']} s wall, {result['cpu_s']} s CPU) {result['errors'] or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
