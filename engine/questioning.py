"""Which question to ask next: only facts whose answer can still change the outcome.

The outcome for a company is what it would act on: the plan, the totals and the status of
every fiche that is planned or named by its goals. A fact is worth asking when
- it is unknown and the outcome shows it (an `unknown` status or a « vérifier » step), or
- two of its possible answers lead to different outcomes (e.g. a cahier des charges
  that decides whether the preparation fiche is planned).
Facts the profile states are never asked again. A fact only *implied* by other answers
can still be asked when its own answer would change the outcome (the profile's stated
value wins over an implication), so that the interview's result equals the assessment
of the full profile, contradictory profiles included.

Ranking (why this order): hard conditions first — size, membership, approved
diagnostic, recommendation domains, general conditions, sector — because a company that
cannot benefit should learn it early and why; then the facts that decide most, i.e.
cited by the most conditions of the fiches in play; facts only implied come last (they
are usually confirmations); ties keep the contract's key order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .assess import canonical_json
from .evaluate import Evaluation, evaluate
from .knowledge import Knowledge
from .planner import Plan, build_plan, requested_fiches

OPENING = ("employees", "goals", "fiches")
HARD_ORDER = ("pnman_member", "diagnostic_approved", "recommendations", "general_conditions", "industrial")


@dataclass(frozen=True)
class Outcome:
    evaluation: Evaluation
    plan: Plan
    signature: str
    relevant: tuple[int, ...]


def outcome(answers: Mapping[str, Any], kb: Knowledge) -> Outcome:
    """Evaluate the answers so far and reduce the result to what the company acts on."""
    evaluation = evaluate(answers, kb)
    plan = build_plan(evaluation, kb)
    relevant = {n for n, _ in requested_fiches(answers, kb)}
    relevant.update(s["fiche"] for s in plan.steps if s["kind"] == "fiche")
    signature = canonical_json({
        "plan": list(plan.steps),
        "totals": plan.totals,
        "statuses": {str(n): evaluation.status(n) for n in sorted(relevant)},
    })
    return Outcome(evaluation, plan, signature, tuple(sorted(relevant)))


def fiches_in_play(answers: Mapping[str, Any], kb: Knowledge) -> set[int]:
    """The requested fiches, their preparation fiches and every fiche that could bring a
    prerequisite of a fiche in play (walking the dependency data)."""
    todo = [n for n, _ in requested_fiches(answers, kb)]
    seen: set[int] = set()
    while todo:
        number = todo.pop()
        if number in seen:
            continue
        seen.add(number)
        fiche = kb.fiche(number)
        if fiche.pair:
            todo.extend(fiche.pair.values())
        for condition in kb.conditions[number]:
            if condition.kind == "prerequisite":
                for fact in condition.facts:
                    todo.extend(kb.providers(fact))
    return seen


def relevant_facts(answers: Mapping[str, Any], kb: Knowledge) -> dict[str, int]:
    """Facts that can matter for the fiches in play, with how many conditions cite them."""
    play = fiches_in_play(answers, kb)
    weight: dict[str, int] = {}
    for number in play:
        for condition in kb.conditions[number]:
            for fact in condition.facts:
                weight[fact] = weight.get(fact, 0) + 1
        tool = kb.fiche(number).tool
        if tool:
            weight.setdefault(f"specs_{tool}", 1)
    # Premises of implications can decide an implied fact: they matter too.
    changed = True
    while changed:
        changed = False
        for rule in kb.guide.get("implications", []):
            ((premise, _),) = rule["if"].items()
            ((target, _),) = rule["then"].items()
            if target in weight and premise not in weight:
                weight[premise] = 1
                changed = True
    return weight


def _alternatives(key: str, kb: Knowledge) -> list[Any]:
    spec = kb.facts[key]
    if spec["type"] == "bool":
        return [True, False]
    if spec["type"] == "int":      # one value under and one over every ceiling the fiches set
        limits = sorted({t.value for t in kb.tests() if t.fact == key and t.op == "max"})
        return [0] + [limit + 1 for limit in limits]
    if key == "recommendations":
        return [[], list(spec["choices"])]
    return []


def _rank(key: str, weight: int, implied: bool, kb: Knowledge) -> tuple:
    order = list(kb.facts)
    hard = HARD_ORDER.index(key) if key in HARD_ORDER else len(HARD_ORDER)
    return (implied, hard, -weight, order.index(key))


def is_useful(key: str, answers: Mapping[str, Any], current: Outcome, kb: Knowledge) -> bool:
    """True when some answer to `key` would change the outcome at this point."""
    if key not in answers:
        for number in current.relevant:
            status = current.evaluation.statuses[number]
            if status.status == "unknown" and key in status.unknown_facts:
                return True
        if any(s.get("fact") == key and s.get("check_only") for s in current.plan.steps):
            return True
    signatures = {current.signature} if key not in answers else set()
    for value in _alternatives(key, kb):
        trial = dict(answers)
        trial[key] = value
        signatures.add(outcome(trial, kb).signature)
        if len(signatures) > 1:
            return True
    return False


def next_question(answers: Mapping[str, Any], kb: Knowledge, *, asked: set[str] | None = None,
                  current: Outcome | None = None) -> str | None:
    """The profile key to ask next, or None when no answer can change the outcome any more.
    `current` is outcome(answers) when the caller already has it."""
    asked = set(asked or ()) | {k for k in answers}
    for key in OPENING:
        if key not in asked:
            return key
    if not requested_fiches(answers, kb):
        return None
    current = current or outcome(answers, kb)
    weights = relevant_facts(answers, kb)
    candidates = []
    for key, weight in weights.items():
        if key in asked or kb.facts[key]["role"] in ("identity", "request"):
            continue
        implied = key in current.evaluation.facts
        candidates.append((_rank(key, weight, implied, kb), key))
    for _, key in sorted(candidates):
        if is_useful(key, answers, current, kb):
            return key
    return None


def pending_estimate(answers: Mapping[str, Any], kb: Knowledge, current: Outcome | None = None) -> int:
    """A cheap estimate of the questions left, for the progress display."""
    if "goals" not in answers:
        return len(OPENING) + 6 - len(answers)   # before the goals are known: a typical interview
    if not requested_fiches(answers, kb):
        return 0
    current = current or outcome(answers, kb)
    unknown = set()
    for number in current.relevant:
        status = current.evaluation.statuses[number]
        if status.status == "unknown":
            unknown.update(status.unknown_facts)
    return len(unknown - set(answers)) + 1
