"""Stress durable-rules the way that used to lose firings: many assessments with a tiny GIL
switch interval. Prints failures, CPU and wall time beside the baseline in the same run:
durable's own Python Host with its timer threads (rules/runtime.HostEngine), in a fresh
process.

    .venv/bin/python bench/stress_durable.py 20000                   # pnman's engine (expect 0 failures), then the baseline
    .venv/bin/python bench/stress_durable.py 20000 --baseline-count 0   # pnman's engine alone
    .venv/bin/python bench/stress_durable.py 8000 --baseline          # the baseline alone

A failure is an exception (error 307, a lost action) or a record whose decision digest
differs from the one computed before the stress began. Figures, not a test: the marked
test tests/test_stress.py runs the same loop in CI.
"""
from __future__ import annotations

import argparse
import json
import subprocess
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
    from pnman.rules import engines, runtime

    if baseline:   # durable's own Python Host, timer threads and all, as before the fix
        runtime.RuleEngine = runtime.HostEngine      # rules/engines.engine_for takes the driver from runtime
        engines.engine_for.cache_clear()
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
    engine = type(engines.engine_for(kb, engines.chosen())).__name__
    return {"assessments": count, "failures": failures, "errors": errors, "engine": engine,
            "wall_s": round(time.perf_counter() - start, 1), "cpu_s": round(time.process_time() - cpu, 1)}


def _line(result: dict, baseline: bool) -> str:
    mode = ("baseline (durable's Host, timer threads on)" if baseline
            else "pnman (durable's C interface, timer threads never started)")
    return (f"{mode} [{result['engine']}]: {result['failures']} failures in {result['assessments']} assessments "
            f"({result['wall_s']} s wall, {result['cpu_s']} s CPU) {result['errors'] or ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=20000)
    parser.add_argument("--baseline", action="store_true", help="only the baseline: durable's Host with its timer threads")
    parser.add_argument("--baseline-count", type=int, default=8000,
                        help="assessments of the baseline run after pnman's (default: %(default)s; 0: none)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        result = stress(args.count, baseline=True)
        print(json.dumps(result) if args.json else _line(result, True))
        return 0
    print(_line(stress(args.count), False), flush=True)
    if args.baseline_count:     # a fresh process: the Host's threads must not run beside pnman's engine
        done = subprocess.run([sys.executable, __file__, str(args.baseline_count), "--baseline", "--json"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"baseline: the run ended with exit code {done.returncode} (a crash is one way durable's "
                  f"timer threads fail): {done.stderr.strip()[-300:]}")
        else:
            print(_line(json.loads(done.stdout), True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
