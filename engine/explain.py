"""Why a fiche is (or is not) in the plan, and what it would take to make it eligible.

Explanations are values: the CLI only renders them. "What would it take" is computed
by re-evaluating candidate changes with the engine, never written by hand: the
smallest sets of fact changes after which the fiche is `eligible`.
"""
from __future__ import annotations

from itertools import combinations
from typing import Any

from knowledge.conditions import Test
from knowledge.loader import Knowledge
from knowledge.profile import check_profile
from rules.evaluate import evaluate

from .facade import assess
from .record import reason

MAX_CANDIDATES = 14


def _favourable(test: Test, profile: dict) -> Any:
    if test.op == "eq":
        return test.value
    if test.op == "contains":
        current = list(profile.get(test.fact) or [])
        return sorted(set(current) | {test.value})
    if test.op == "max":
        return test.value
    return None


def _candidates(status, kb: Knowledge, profile: dict):
    changes, impossible = [], []
    seen = set()
    for outcome in status.conditions:
        if outcome.outcome == "met":
            continue
        for result in outcome.tests:
            if result.outcome == "met":
                continue
            test = result.test
            key = (test.fact, test.op, str(test.value))
            if key in seen:
                continue
            seen.add(key)
            if result.outcome == "failed" and kb.unchangeable(test, outcome.condition):
                impossible.append({"fact": test.fact, "condition": outcome.condition.id,
                                   "reason": "unchangeable", "possible": False})
                continue
            changes.append({"fact": test.fact, "from": profile.get(test.fact), "to": _favourable(test, profile),
                            "condition": outcome.condition.id, "possible": True, "_test": test})
    return changes, impossible


def _apply(profile: dict, changes: list[dict]) -> dict:
    new = dict(profile)
    for change in changes:
        if change["_test"].op == "contains":
            new[change["fact"]] = sorted(set(new.get(change["fact"]) or []) | {change["_test"].value})
        else:
            new[change["fact"]] = change["to"]
    return new


def what_would_it_take(profile: dict, fiche: int, kb: Knowledge) -> dict:
    """The smallest sets of fact changes that make `fiche` eligible, verified by re-evaluation."""
    evaluation = evaluate(profile, kb)
    status = evaluation.statuses[fiche]
    if status.status == "eligible":
        return {"already_eligible": True, "options": [], "impossible": []}
    changes, impossible = _candidates(status, kb, profile)
    if impossible:
        return {"already_eligible": False, "options": [], "impossible": impossible}
    options: list[list[dict]] = []
    if len(changes) > MAX_CANDIDATES:
        sizes = [len(changes)]
    else:
        sizes = range(1, len(changes) + 1)
    for size in sizes:
        for subset in combinations(changes, size):
            if any(set(id(c) for c in found) <= set(id(c) for c in subset) for found in options):
                continue
            if evaluate(_apply(profile, list(subset)), kb).status(fiche) == "eligible":
                options.append(list(subset))
        if options:
            break
    cleaned = [[{k: v for k, v in c.items() if k != "_test"} for c in option] for option in options]
    return {"already_eligible": False, "options": cleaned, "impossible": []}


def explain(result: dict, fiche: int, kb: Knowledge) -> dict:
    """Why fiche N is, or is not, in the plan of a recorded assessment: rules, facts,
    citations, what it would take.

    The reasons are the engine's own, replayed from the recorded inputs, never read back
    from the record's other fields (which a person may have edited): an explanation
    cannot be made to say what the engine did not decide. The recorded status is shown
    beside the replayed one, so a difference points to `pnman audit`.
    """
    profile = dict(check_profile(result["profile"], kb, file=result.get("_source", "<result>")))
    assessment = assess(profile, kb)
    record = assessment.record(timestamp=result.get("timestamp"))
    status = assessment.evaluation.statuses[fiche]
    recorded = next((e.get("status") for e in result["fiches"] if e.get("fiche") == fiche), None)
    steps = [s for s in record["plan"] if s["kind"] == "fiche" and s["fiche"] == fiche]
    bringers = []
    if steps:
        first = steps[0]
        for step in record["plan"][: first["step"] - 1]:
            if step["kind"] == "company_action" and fiche in step["needed_by"]:
                bringers.append({"step": step["step"], "kind": "company_action", "id": step["id"],
                                 "fact": step["fact"], "check_only": step["check_only"]})
            elif step["kind"] == "fiche" and step["fiche"] in first["after"]:
                provided = [f for f in kb.fiche(step["fiche"]).provides
                            if any(f in c.facts for c in kb.conditions[fiche])]
                bringers.append({"step": step["step"], "kind": "fiche", "fiche": step["fiche"],
                                 "title": step["title"], "provides": provided, "part": step.get("part")})
    used_rules = {t.rule for c in status.conditions for t in c.tests if t.rule}
    take = what_would_it_take(profile, fiche, kb) if status.status != "eligible" else \
        {"already_eligible": True, "options": [], "impossible": []}
    return {
        "fiche": fiche,
        "title": kb.fiche(fiche).title,
        "status": status.status,
        "recorded_status": recorded,
        "status_rule": status.rule,
        "in_plan": bool(steps),
        "why": {
            "steps": [{"step": s["step"], "part": s.get("part"), "because": s["because"]} for s in steps],
            "brought_by": bringers,
        },
        "conditions": [reason(c, assessment.evaluation) for c in status.conditions],
        "why_not": [reason(c, assessment.evaluation) for c in status.conditions if c.outcome == "failed"],
        "unknown": [reason(c, assessment.evaluation) for c in status.conditions if c.outcome == "unknown"],
        "rules_fired": [t for t in record["trace"] if t["rule"] in used_rules],
        "what_would_it_take": take,
        "warnings": [w for w in record["warnings"] if w["fiche"] == fiche],
    }
