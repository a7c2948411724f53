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

Ranking (why this order, declared in knowledge/questions.yaml): the opening questions
(who the company is, what it wants); then by priority — hard conditions first, because a
company that cannot benefit should learn it early and why; then the facts that decide
most, i.e. cited by the most conditions of the fiches in play; facts only implied come
last (they are usually confirmations); ties keep the contract's key order.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from pnman.knowledge.loader import Knowledge
from pnman.rules.evaluate import Evaluation, evaluate, evaluate_trial

from .facade import Assessment
from .plan_reads import Read, Reading, SignatureTree, cannot_change, signed
from .planner import Plan, build_plan, requested_fiches
from .record import canonical_json


def opening_questions(kb: Knowledge) -> tuple[str, ...]:
    """Who the company is and what it wants: asked first, in the declared order."""
    opening = [(spec.opening, key) for key, spec in kb.questions.items() if spec.opening is not None]
    return tuple(key for _, key in sorted(opening))


@dataclass(frozen=True)
class Outcome:
    evaluation: Evaluation
    plan: Plan
    signature: str
    relevant: tuple[int, ...]
    reads: frozenset[Read] = frozenset()     # what the plan and the signature read of the evaluation


_OUTCOMES: OrderedDict[tuple, Outcome] = OrderedDict()
_TRIALS: OrderedDict[tuple, str] = OrderedDict()
_OUTCOMES_LOCK = threading.Lock()
OUTCOMES_KEPT = 512
TRIALS_KEPT = 4096


def outcome(answers: Mapping[str, Any], kb: Knowledge, *, trial: bool = False) -> Outcome:
    """Evaluate the answers so far and reduce the result to what the company acts on.

    `trial`: a « what if » of the usefulness test, evaluated with the rules fired in plain
    Python (rules/chaining.py: the same firings as the engine, a tenth of the cost); the
    outcome of the answers actually given always comes from the rules engine. Both kinds
    are kept for the last few hundred sets of answers (people answering alike share the
    first steps; the web server's load is mostly this function)."""
    key = (trial, kb.version, canonical_json(answers))
    with _OUTCOMES_LOCK:
        found = _OUTCOMES.get(key)
        if found is not None:
            _OUTCOMES.move_to_end(key)
            return found
    found = _outcome(answers, kb, trial)
    with _OUTCOMES_LOCK:
        _OUTCOMES[key] = found
        while len(_OUTCOMES) > OUTCOMES_KEPT:
            _OUTCOMES.popitem(last=False)
    return found


def assessment(answers: Mapping[str, Any], kb: Knowledge) -> Assessment:
    """The answers' assessment (facade.assess's: the rules engine's evaluation and its plan),
    from the outcome the questioning already has for them: an interview's last answer is
    not evaluated and planned again for its result."""
    found = outcome(answers, kb)
    return Assessment(kb, found.evaluation, found.plan)


def _outcome(answers: Mapping[str, Any], kb: Knowledge, trial: bool = False) -> Outcome:
    # A copy is kept: the caller's answers change as the interview goes on (values: figures, lists of codes).
    answers = {key: list(value) if isinstance(value, list) else value for key, value in answers.items()}
    evaluation = evaluate_trial(answers, kb) if trial else evaluate(answers, kb)
    reading = Reading(evaluation)
    plan, signature, relevant = _signed(reading, kb)
    _signatures(kb).add(reading.reads, signature)
    return Outcome(evaluation, plan, signature, relevant, frozenset(read for read, _ in reading.reads))


def _signed(reading: Reading, kb: Knowledge) -> tuple[Plan, str, tuple[int, ...]]:
    """The plan of the evaluation `reading` reads, and the signature of the outcome: the
    plan, its totals and the status of every fiche requested or planned."""
    plan = build_plan(reading, kb)
    relevant = {n for n, _ in requested_fiches(reading.profile, kb)}
    relevant.update(s.fiche for s in plan.steps if s.id.is_fiche)
    signature = canonical_json({
        "plan": plan.records(),
        "totals": plan.totals,
        "statuses": {str(n): reading.status(n) for n in sorted(relevant)},
    })
    return plan, signature, tuple(sorted(relevant))


@lru_cache(maxsize=4)
def _signatures(kb: Knowledge) -> SignatureTree:
    return SignatureTree()


def trial_signature(answers: Mapping[str, Any], kb: Knowledge) -> str:
    """The signature of a « what if »'s outcome (`outcome(answers, trial=True).signature`):
    evaluated in plain Python, planned only when no outcome read the same before
    (engine/plan_reads.py); kept for the last few thousand sets of answers."""
    key = (kb.version, canonical_json(answers))
    with _OUTCOMES_LOCK:
        found = _TRIALS.get(key)
        if found is not None:
            _TRIALS.move_to_end(key)
            return found
    found = signed(evaluate_trial(answers, kb), lambda reading: _signed(reading, kb)[1], _signatures(kb))
    with _OUTCOMES_LOCK:
        _TRIALS[key] = found
        while len(_TRIALS) > TRIALS_KEPT:
            _TRIALS.popitem(last=False)
    return found


def relevant_facts(answers: Mapping[str, Any], kb: Knowledge) -> dict[str, int]:
    """Facts that can matter for the fiches in play (the requested fiches and every fiche
    the dependency graph puts before them), with how many conditions cite them."""
    return dict(_relevant_facts(tuple(n for n, _ in requested_fiches(answers, kb)), kb))


@lru_cache(maxsize=256)
def _relevant_facts(requested: tuple[int, ...], kb: Knowledge) -> dict[str, int]:
    """relevant_facts, once per request (the same all through an interview)."""
    play = kb.graph.in_play(requested)
    weight: dict[str, int] = {}
    for number in play:
        for condition in kb.conditions[number]:
            for fact in condition.facts:
                weight[fact] = weight.get(fact, 0) + 1
        specs = kb.fiche(number).specs
        if specs:
            weight.setdefault(specs, 1)
    # Premises of implications can decide an implied fact: they matter too.
    changed = True
    while changed:
        changed = False
        for rule in kb.implications:
            premise, target = rule.premise[0], rule.conclusion[0]
            if target in weight and premise not in weight:
                weight[premise] = 1
                changed = True
    return weight


def _alternatives(key: str, kb: Knowledge) -> list[Any]:
    spec = kb.facts[key]
    if spec.type == "bool":
        return [True, False]
    if spec.type == "int":      # one value under and one over every ceiling the fiches set
        limits = sorted({t.value for t in kb.tests() if t.fact == key and t.op == "max"})
        return [0] + [limit + 1 for limit in limits]
    if spec.type == "list" and spec.choices:
        return [[], list(spec.choices)]
    return []


def _rank(key: str, weight: int, implied: bool, kb: Knowledge) -> tuple:
    return (implied, kb.questions[key].priority, -weight, _fact_order(kb)[key])


@lru_cache(maxsize=4)
def _fact_order(kb: Knowledge) -> dict[str, int]:
    """Each fact's place in the contract's key order (the last tie-break)."""
    return {key: index for index, key in enumerate(kb.facts)}


def called_for(key: str, current: Outcome) -> bool:
    """True when the outcome itself asks for `key` (not yet answered): a fiche in play is
    unknown for want of it, or the plan has the company check it."""
    for number in current.relevant:
        status = current.evaluation.statuses[number]
        if status.status == "unknown" and key in status.unknown_facts:
            return True
    return any(s.check_only and (s.fact == key or key in s.any_of) for s in current.plan.steps)


def is_useful(key: str, answers: Mapping[str, Any], current: Outcome, kb: Knowledge) -> bool:
    """True when some answer to `key` would change the outcome at this point."""
    if key not in answers:
        if called_for(key, current):
            return True
        if cannot_change(key, current.reads, current.evaluation, kb):
            return False        # no answer to it can change anything the outcome was made from
    signatures = {current.signature} if key not in answers else set()
    for value in _alternatives(key, kb):
        trial = dict(answers)
        trial[key] = value
        signatures.add(trial_signature(trial, kb))
        if len(signatures) > 1:
            return True
    return False


def next_question(answers: Mapping[str, Any], kb: Knowledge, *, asked: set[str] | None = None,
                  current: Outcome | None = None) -> str | None:
    """The profile key to ask next, or None when no answer can change the outcome any more.
    `current` is outcome(answers) when the caller already has it."""
    asked = set(asked or ()) | {k for k in answers}
    for key in opening_questions(kb):
        if key not in asked:
            return key
    if not requested_fiches(answers, kb):
        return None
    current = current or outcome(answers, kb)
    weights = relevant_facts(answers, kb)
    candidates = []
    for key, weight in weights.items():
        if key in asked or kb.facts[key].role in ("identity", "request"):
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
        return len(opening_questions(kb)) + 6 - len(answers)   # before the goals are known: a typical interview
    if not requested_fiches(answers, kb):
        return 0
    current = current or outcome(answers, kb)
    unknown = set()
    for number in current.relevant:
        status = current.evaluation.statuses[number]
        if status.status == "unknown":
            unknown.update(status.unknown_facts)
    return len(unknown - set(answers)) + 1
