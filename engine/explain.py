"""Why a fiche is (or is not) in the plan, and what it would take to make it eligible.

Explanations are values: the CLI only renders them.

- Why a fiche is left out of the plan is the planner's decision, read from its output
  (steps, their `because` ids, warnings) and the knowledge's data (a fiche's `pair`,
  `specs`, `provides`): a code and its figures (`left_out`), worded at the edge. A
  missing prerequisite never keeps a fiche out (the plan brings it).
- "What would it take" is derived from the structure of the fiche's conditions, then
  checked by the engine, never written by hand: every failing or unknown test of an
  all-of condition must turn, one alternative of an any-of condition is enough, a
  failing test the company cannot change (`kb.unchangeable`) makes it impossible. Each
  candidate is verified by one evaluation. An implication may call for more: a test it
  turns, or a contradiction the change would create (a network without an IT
  infrastructure): the changes that settle it are added (their `condition` is the
  implication's id) and verified again. Then a change is dropped when the fiche does
  without it; a change that surely matters (it meets a test no other change can reach)
  is kept without an evaluation. An option thus makes the fiche eligible, contradicts
  the profile nowhere it did not already, and loses that when any change is taken out.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import product
from typing import Any

from pnman.knowledge.conditions import Condition
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.profile import check_profile
from pnman.rules.evaluate import Contradiction, Evaluation, FicheStatus, TestOutcome, evaluate

from .audit import record_knowledge
from .facade import assess
from .planner import requested_fiches
from .reasons import BRINGS
from .steps import PlanStep
from .record import reason, trace

# Rounds of "apply, evaluate, add what the evaluation still asks for" per candidate.
MAX_ROUNDS = 8



# -- what would it take ----------------------------------------------------------------------
def _favourable(test, current: Any) -> Any:
    """The value that meets `test`, or None when no value the company can give does."""
    if test.op == "eq":
        return test.value
    if test.op == "contains":
        return sorted(set(current or []) | {test.value})
    if test.op == "max":
        return test.value
    return None


def _blocked(result: TestOutcome, condition: Condition, kb: Knowledge) -> bool:
    """A test the company cannot turn: failing on a fact it cannot change, or no value meets it."""
    if result.outcome == "failed" and kb.unchangeable(result.test, condition):
        return True
    return _favourable(result.test, None) is None


def _structure(status: FicheStatus, kb: Knowledge):
    """The tests that must turn (all-of), the alternatives of each any-of condition, and
    the failing tests that cannot turn."""
    needed: list[tuple[TestOutcome, Condition]] = []
    choices: list[list[tuple[TestOutcome, Condition]]] = []
    impossible: list[dict] = []
    for outcome in status.conditions:
        if outcome.outcome == "met":
            continue
        condition = outcome.condition
        pending = [t for t in outcome.tests if t.outcome != "met"]
        blocked = [t for t in pending if _blocked(t, condition, kb)]
        if condition.any_of:
            open_ = [(t, condition) for t in pending if t not in blocked]
            if open_:
                choices.append(open_)
                continue
        else:
            needed.extend((t, condition) for t in pending if t not in blocked)
        impossible.extend({"fact": t.test.fact, "condition": condition.id, "reason": "unchangeable",
                           "possible": False} for t in blocked)
    return needed, choices, impossible


def _changes(tests, profile: dict, evaluation: Evaluation, base: dict | None = None) -> dict | None:
    """Fact → change that meets every given test, added to `base` (None when two tests want
    opposite values); `from` is the value in `profile` or, absent there, in `evaluation`."""
    changes = {fact: dict(change) for fact, change in (base or {}).items()}
    for result, condition in tests:
        test = result.test
        found = changes.get(test.fact)
        if found is not None:
            if test.op == "contains":
                found["to"] = sorted(set(found["to"]) | {test.value})
            elif found["to"] != test.value:
                return None
            continue
        current = profile.get(test.fact) if test.fact in profile else evaluation.fact(test.fact)
        changes[test.fact] = {"fact": test.fact, "from": current, "to": _favourable(test, profile.get(test.fact)),
                              "condition": condition.id, "possible": True}
    return changes


def _apply(profile: dict, changes: dict) -> dict:
    new = dict(profile)
    for fact, change in changes.items():
        new[fact] = change["to"]
    return new


def _contradicted(evaluation: Evaluation) -> set[str]:
    """The facts the profile contradicts itself on (a stated fact an implication denies, or
    two implications that disagree)."""
    return {c.fact for c in evaluation.contradictions}


class _Checker:
    """Evaluations of changed profiles, counted (each is one run of the rules). A change set
    `fits` when the fiche is eligible after it and the profile contradicts itself on no
    fact it did not already."""

    def __init__(self, profile: dict, fiche: int, kb: Knowledge, evaluation: Evaluation):
        self.profile, self.fiche, self.kb, self.original = profile, fiche, kb, evaluation
        self.base = _contradicted(evaluation)
        self.runs = 0
        self._seen: dict[tuple, Evaluation] = {}

    def __call__(self, changes: dict) -> Evaluation:
        key = tuple(sorted((f, repr(c["to"])) for f, c in changes.items()))
        found = self._seen.get(key)
        if found is None:
            self.runs += 1
            found = self._seen[key] = evaluate(_apply(self.profile, changes), self.kb)
        return found

    def new_contradictions(self, evaluation: Evaluation) -> list[Contradiction]:
        return [c for c in evaluation.contradictions if c.fact not in self.base]

    def fits(self, changes: dict, consistent: bool = True) -> bool:
        evaluation = self(changes)
        return evaluation.status(self.fiche) == "eligible" and not (consistent and self.new_contradictions(evaluation))


def _set(changes: dict, fact: str, value: Any, because: str, check: _Checker) -> bool:
    """Add `fact → value` to the changes; False when they already give it another value, or
    the company cannot change the fact."""
    if check.kb.facts[fact].unchangeable:
        return False
    found = changes.get(fact)
    if found is not None:
        return found["to"] == value
    current = check.profile.get(fact) if fact in check.profile else check.original.fact(fact)
    changes[fact] = {"fact": fact, "from": current, "to": value, "condition": because, "possible": True}
    return True


def _consistent(changes: dict, contradictions: list[Contradiction], check: _Checker) -> dict | None:
    """The changes, with what keeps the profile from contradicting itself: a stated fact
    goes along with what a change implies (a network is an IT infrastructure), and a change
    that an implication of the profile denies takes that implication's premise with it (an
    infrastructure means using IT). None when the changes cannot agree."""
    more = {fact: dict(change) for fact, change in changes.items()}
    for found in contradictions:
        fact, rules = found.fact, found.rules
        if found.stated is None:               # two implications disagree on a fact no one states
            before = check.original.fact(fact)
            values = [v for v in found.implied if v != before] or list(found.implied)
            ok = _set(more, fact, values[0], rules[0], check)
        elif fact in changes:                   # an implication of the profile denies a change
            ok = True
            for rule in rules:
                premise, value = check.kb.implication[rule].premise
                ok = ok and _set(more, premise, not value, rule, check)
        else:                                   # a change implies what the profile denies
            ok = _set(more, fact, found.implied, rules[0], check)    # a stated fact: one rule denies it
        if not ok:
            return None
    return more


def _settle(changes: dict, check: _Checker) -> tuple[dict, bool] | None:
    """The candidate, completed with what its evaluation still asks for (an implication can
    turn a fact the candidate did not touch, or contradict a stated one), with whether it
    is free of new contradictions; None when no completion makes the fiche eligible."""
    eligible = None
    for _ in range(MAX_ROUNDS):
        evaluation = check(changes)
        status = evaluation.statuses[check.fiche]
        if status.status == "eligible":
            eligible = changes
            contradictions = check.new_contradictions(evaluation)
            if not contradictions:
                return changes, True
            more = _consistent(changes, contradictions, check)
        else:
            needed, choices, impossible = _structure(status, check.kb)
            if impossible:
                break
            more = _changes(needed + [alternatives[0] for alternatives in choices], check.profile, check.original,
                            changes)
        if more is None or more == changes:
            break
        changes = more
    return (eligible, False) if eligible is not None else None


@lru_cache(maxsize=4)
def _concluded(kb: Knowledge) -> frozenset[tuple[str, Any]]:
    """The (fact, value) pairs an implication can give a fact the profile does not state."""
    return frozenset(item for rule in kb.implications for item in rule.then.items())


def _stays_unmet(result: TestOutcome, profile: dict, concluded: frozenset) -> bool:
    """Whether a test that was not met stays so while its fact keeps its profile value: a
    stated value wins over any implication; an absent one can only be concluded by one."""
    test = result.test
    if result.outcome == "met":
        return False
    if test.fact in profile:
        return True
    if test.op != "eq":
        return all(fact != test.fact for fact, _ in concluded)
    return (test.fact, test.value) not in concluded


def _needed(fact: str, changes: dict, status: FicheStatus, profile: dict, concluded: frozenset) -> bool:
    """Whether undoing the change of `fact` surely leaves the fiche short of eligible, with
    no evaluation: a condition on it that was not met (in `status`, before any change)
    keeps failing, because none of the facts it reads can turn without a change."""
    for outcome in status.conditions:
        if outcome.outcome == "met":
            continue
        mine = [t for t in outcome.tests if t.test.fact == fact]
        if not any(_stays_unmet(t, profile, concluded) for t in mine):
            continue
        if not outcome.condition.any_of:
            return True
        if all(_stays_unmet(t, profile, concluded) and (t.test.fact == fact or t.test.fact not in changes)
               for t in outcome.tests):
            return True
    return False


def _reduce(changes: dict, check: _Checker, status: FicheStatus, consistent: bool) -> dict:
    """Drop the changes the fiche does without, until removing any one of them makes it
    short of eligible again, or the profile contradict itself (`status`: the fiche before
    any change)."""
    concluded = _concluded(check.kb)
    reduced = True
    while reduced and len(changes) > 1:
        reduced = False
        for fact in list(changes):
            if _needed(fact, changes, status, check.profile, concluded):
                continue
            trial = {f: c for f, c in changes.items() if f != fact}
            if trial and check.fits(trial, consistent):
                changes, reduced = trial, True
    return changes


def what_would_it_take(profile: dict, fiche: int, kb: Knowledge, evaluation: Evaluation | None = None) -> dict:
    """The minimal sets of fact changes that make `fiche` eligible, each verified by the engine.

    `already_eligible`; `options`: lists of changes `{"fact", "from", "to", "condition",
    "possible"}`, the fewest changes first; `impossible`: the failing tests the company
    cannot change (then there is no option); `evaluations`: the rule runs it took."""
    evaluation = evaluation if evaluation is not None else evaluate(profile, kb)
    status = evaluation.statuses[fiche]
    if status.status == "eligible":
        return {"already_eligible": True, "options": [], "impossible": [], "evaluations": 0}
    needed, choices, impossible = _structure(status, kb)
    if impossible:
        return {"already_eligible": False, "options": [], "impossible": impossible, "evaluations": 0}
    check = _Checker(dict(profile), fiche, kb, evaluation)
    found: dict[tuple, list[dict]] = {}
    for combination in product(*choices):
        changes = _changes(needed + list(combination), check.profile, evaluation)
        settled = _settle(changes, check) if changes else None
        if settled is None:
            continue
        changes, consistent = settled
        changes = _reduce(changes, check, status, consistent)
        key = tuple(sorted((f, repr(c["to"])) for f, c in changes.items()))
        found.setdefault(key, list(changes.values()))
    keys = sorted(found, key=lambda k: (len(k), k))
    minimal = [k for k in keys if not any(set(other) < set(k) for other in keys)]
    options = [found[k] for k in minimal]
    return {"already_eligible": False, "options": options, "impossible": [], "evaluations": check.runs}


# -- why a fiche is left out of the plan ----------------------------------------------------------
def _planned_fiches(steps: list[PlanStep]) -> dict[int, list[PlanStep]]:
    planned: dict[int, list[PlanStep]] = {}
    for step in steps:
        if step.id.is_fiche:
            planned.setdefault(step.fiche, []).append(step)
    return planned


def left_out(fiche: int, evaluation: Evaluation, steps: list[PlanStep], warnings: list[dict], kb: Knowledge) -> dict | None:
    """Why the planner left `fiche` out of the plan, as a code and its figures (None when
    it is planned), read from the plan's steps, their `because` ids and its warnings.
    `status` and `failing` (the fiche's own eligibility conditions that fail) come with
    every code: a fiche the company has no access to says so whatever kept it out."""
    planned = _planned_fiches(steps)
    if fiche in planned:
        return None
    status = evaluation.statuses[fiche]
    own = {"status": status.status, "failing": [c.condition.id for c in status.failing("eligibility")]}
    for w in warnings:                      # asked for, but the guide excludes the company
        if w["code"] == "goal_ineligible" and w["fiche"] == fiche:
            return {"code": "requested_ineligible", "rule": w["figures"]["rule"], **own}
    for acquisition in planned:             # the preparation of a planned acquisition
        if kb.graph.preparation(acquisition) != fiche:
            continue
        for w in warnings:
            if w["code"] == "preparation_ineligible" and w["fiche"] == acquisition \
                    and w["figures"]["preparation"] == fiche:
                return {"code": "preparation_ineligible", "acquisition": acquisition, **own}
        specs = kb.fiche(acquisition).specs
        if specs and specs in kb.fiche(fiche).provides and evaluation.fact(specs) is True:
            return {"code": "preparation_not_needed", "acquisition": acquisition, "fact": specs, **own}
    for w in warnings:                      # the preparation of an asked-for acquisition the company cannot have
        if w["code"] == "goal_ineligible" and w["fiche"] is not None and kb.graph.preparation(w["fiche"]) == fiche:
            return {"code": "acquisition_ineligible", "acquisition": w["fiche"], "rule": w["figures"]["rule"],
                    "acquisition_failing": list(w["figures"]["failing"]), **own}
    brought = _brought_otherwise(fiche, evaluation, steps, planned, kb)
    if brought is not None:
        return dict(brought, **own)
    requested = [number for number, _ in requested_fiches(evaluation.profile, kb)]
    return {"code": "not_requested" if requested else "nothing_requested", "requested": requested, **own}


def _brought_otherwise(fiche: int, evaluation: Evaluation, steps: list[PlanStep], planned: dict[int, list[PlanStep]],
                       kb: Knowledge) -> dict | None:
    """What this fiche would bring about for a planned fiche, when the plan gets it
    elsewhere: from another planned fiche (for an any-of condition, by another of its
    alternatives), or from the company (a fact to check first, or to bring itself)."""
    provides = set(kb.fiche(fiche).provides)
    if not provides:
        return None
    brought_by: dict[tuple[str, int], int] = {}         # (fact, needer) -> the planned fiche that brings it
    for step in steps:
        if not step.id.is_fiche:
            continue
        for why in step.because:
            if why.rule in BRINGS:
                brought_by.setdefault((why.fact, why.fiche), step.fiche)
    actions = {s.fact: s for s in steps if not s.id.is_fiche}
    for needer, needer_steps in sorted(planned.items()):
        if needer == fiche:
            continue
        after = [n for s in needer_steps for n in s.after]
        for outcome in evaluation.statuses[needer].conditions:
            if outcome.outcome == "met" or outcome.condition.kind != "prerequisite":
                continue
            mine = [f for f in outcome.condition.facts if f in provides]
            if not mine:
                continue
            wanted = list(outcome.condition.facts) if outcome.condition.any_of else mine
            for fact in wanted:
                provider = brought_by.get((fact, needer)) or next(
                    (p for p in after if p != fiche and fact in kb.fiche(p).provides), None)
                if provider is not None and provider != fiche:
                    return {"code": "other_provider", "fact": fact, "provides": mine[0], "needed_by": needer,
                            "provider": provider}
            for fact in wanted:
                action = actions.get(fact)
                if action is not None and needer in action.needed_by:
                    return {"code": "fact_to_check" if action.check_only else "company_brings",
                            "fact": fact, "provides": mine[0], "needed_by": needer, "action": action.id.label}
    return None


# -- the explanation ----------------------------------------------------------------------------
def explain(result: dict, fiche: int, kb: Knowledge) -> dict:
    """Why fiche N is, or is not, in the plan of a recorded assessment: rules, facts,
    citations, what it would take.

    The reasons are the engine's own, replayed from the recorded inputs, never read back
    from the record's other fields (which a person may have edited): an explanation
    cannot be made to say what the engine did not decide. The recorded status is shown
    beside the replayed one, so a difference points to `pnman audit`.
    """
    kb = record_knowledge(result, kb)       # the record's own edition of the guide
    profile = dict(check_profile(result["profile"], kb, file=result.get("_source", "<result>")))
    assessment = assess(profile, kb)
    evaluation = assessment.evaluation
    plan = list(assessment.plan.steps)
    warnings = [w.as_dict() for w in assessment.plan.warnings]
    status = evaluation.statuses[fiche]
    recorded = next((e.get("status") for e in result["fiches"] if e.get("fiche") == fiche), None)
    steps = [s for s in plan if s.id.is_fiche and s.fiche == fiche]
    bringers = []
    if steps:
        first = steps[0]
        for step in plan[: first.index - 1]:
            if not step.id.is_fiche and fiche in step.needed_by:
                bringers.append({"step": step.index, "kind": step.kind.value, "id": step.id.label,
                                 "fact": step.fact, "check_only": step.check_only})
            elif step.id.is_fiche and step.fiche in first.after:
                provided = [f for f in kb.fiche(step.fiche).provides
                            if any(f in c.facts for c in kb.conditions[fiche])]
                bringers.append({"step": step.index, "kind": step.kind.value, "fiche": step.fiche,
                                 "title": step.title, "provides": provided, "part": step.part})
    used_rules = {t.rule for c in status.conditions for t in c.tests if t.rule}
    return {
        "fiche": fiche,
        "title": kb.fiche(fiche).title,
        "status": status.status,
        "recorded_status": recorded,
        "status_rule": status.rule,
        "in_plan": bool(steps),
        "why": {
            "steps": [{"step": s.index, "part": s.part, "because": [r.id for r in s.because]} for s in steps],
            "brought_by": bringers,
        },
        "left_out": None if steps else left_out(fiche, evaluation, plan, warnings, kb),
        "conditions": [reason(c, evaluation) for c in status.conditions],
        "why_not": [reason(c, evaluation) for c in status.conditions if c.outcome == "failed"],
        "unknown": [reason(c, evaluation) for c in status.conditions if c.outcome == "unknown"],
        "rules_fired": [t for t in trace(evaluation, kb) if t["rule"] in used_rules],
        "what_would_it_take": what_would_it_take(profile, fiche, kb, evaluation),
        "warnings": [w for w in warnings if w["fiche"] == fiche],
    }
