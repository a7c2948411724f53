"""How many questions the interview asks (figures, not tests): the mean over random complete
profiles with one goal and with two goals, out of the profile's keys.

    .venv/bin/python bench/questions.py [--count 300]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pnman.knowledge import default  # noqa: E402
from pnman.interview.questionnaire.headless import run_headless  # noqa: E402


def random_profile(kb, rng: random.Random, goals: int, realistic: bool) -> dict:
    profile = {"employees": rng.choice([6, 12, 30, 60, 120])}
    for key, spec in kb.facts.items():
        if spec.type == "bool":
            profile[key] = rng.random() < (0.85 if realistic and spec.role == "eligibility" else 0.5)
    codes = kb.facts["recommendations"].choices
    profile["recommendations"] = sorted(rng.sample(codes, rng.randint(1 if realistic else 0, len(codes))))
    profile["workstations_needed"] = rng.randint(1, 10)
    profile["goals"] = rng.sample(sorted(kb.guide.goals), goals)
    profile["fiches"] = []
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    kb = default()
    keys = len(kb.facts)
    for realistic in (False, True):
        label = "companies mostly eligible (85% per hard condition)" if realistic else "uniform random answers"
        print(label)
        for goals in (1, 2):
            rng = random.Random(goals)
            counts = [len(run_headless(random_profile(kb, rng, goals, realistic), kb)["asked"])
                      for _ in range(args.count)]
            print(f"  {goals} goal(s): mean {statistics.mean(counts):5.1f} questions, median "
                  f"{statistics.median(counts):4.1f}, max {max(counts)} (of {keys} profile keys; "
                  f"{args.count} profiles)")


if __name__ == "__main__":
    main()
