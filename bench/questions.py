"""How many questions the interview asks, and what choosing them costs (figures, not tests):
over random complete profiles with one goal and with two goals, the mean number of
questions out of the profile's keys, and the CPU and wall time per answer in-process —
beside the baseline in the same run: the usefulness test's trials through the rules
engine instead of in plain Python (rules/chaining.py).

    .venv/bin/python bench/questions.py [--count 300]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pnman.engine import questioning  # noqa: E402
from pnman.interview.questionnaire.headless import run_headless  # noqa: E402
from pnman.interview.render.l10n import Words  # noqa: E402
from pnman.knowledge import default  # noqa: E402
from pnman.rules import evaluate  # noqa: E402


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


def interviews(kb, words, count: int) -> tuple[dict, float, float, int]:
    """{(realistic, goals): question counts}, CPU s, wall s, answers: one round of interviews."""
    counts, answers = {}, 0
    questioning._OUTCOMES.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    for realistic in (False, True):
        for goals in (1, 2):
            rng = random.Random(goals)
            found = [len(run_headless(random_profile(kb, rng, goals, realistic), kb, words)["asked"])
                     for _ in range(count)]
            counts[(realistic, goals)] = found
            answers += sum(found)
    return counts, time.process_time() - cpu, time.perf_counter() - wall, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    kb = default()
    words = Words("fr", kb)
    keys = len(kb.facts)
    counts, cpu, wall, answers = interviews(kb, words, args.count)
    trial = questioning.evaluate_trial
    questioning.evaluate_trial = evaluate.evaluate        # the baseline: every trial through the rules engine
    try:
        base_counts, base_cpu, base_wall, base_answers = interviews(kb, words, args.count)
    finally:
        questioning.evaluate_trial = trial
    for realistic in (False, True):
        print("companies mostly eligible (85% per hard condition)" if realistic else "uniform random answers")
        for goals in (1, 2):
            found = counts[(realistic, goals)]
            same = "same as" if found == base_counts[(realistic, goals)] else "DIFFERENT from"
            print(f"  {goals} goal(s): mean {statistics.mean(found):5.1f} questions, median "
                  f"{statistics.median(found):4.1f}, max {max(found)} (of {keys} profile keys; "
                  f"{args.count} profiles; {same} the baseline)")
    print(f"per answer, in-process: {1000 * cpu / answers:.2f} ms CPU, {1000 * wall / answers:.2f} ms wall "
          f"({answers} answers)")
    print(f"baseline (trials through the rules engine): {1000 * base_cpu / base_answers:.2f} ms CPU, "
          f"{1000 * base_wall / base_answers:.2f} ms wall ({base_answers} answers)")


if __name__ == "__main__":
    main()
