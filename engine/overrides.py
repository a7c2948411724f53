"""A plan with a diagnostician's overrides applied: shown apart, never the engine's decision.

`replan(record, statuses, kb)` re-evaluates the record's profile, forces the overridden
fiches' statuses, and plans the profile's goals again with the same planner. Forcing a
status means giving the planner the conditions that status stands for (contract §4):
- `eligible`: every condition and prerequisite holds — none of them is brought or checked;
- `conditional`: no eligibility condition fails or is pending — the missing prerequisites
  are still brought (company actions, earlier fiches), as for any conditional fiche;
- `ineligible`: the fiche is closed — it is left out of the plan and its goal, if any,
  warned about (served by its preparation when that one is open), as for any closed fiche.
The conditions' own outcomes stay in the evaluation as read; only what the planner is told
about the fiche changes. The result carries the rule id `override.f<N>.<status>` where the
engine's carries `status.f<N>.<status>`.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from pnman.knowledge.errors import InputError, Phrase, ProfileError
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.profile import check_profile
from pnman.rules.evaluate import ConditionOutcome, Evaluation, FicheStatus

from .audit import record_knowledge
from .facade import assess
from .planner import Plan, build_plan

FORCED = ("eligible", "conditional", "ineligible")


def _forced(status: FicheStatus, forced: str) -> FicheStatus:
    if forced == "eligible":
        conditions = tuple(c if c.outcome == "met" else ConditionOutcome(c.condition, "met", c.tests)
                           for c in status.conditions)
        excluded: tuple = ()
    elif forced == "conditional":
        conditions = tuple(ConditionOutcome(c.condition, "met", c.tests)
                           if c.condition.kind == "eligibility" and c.outcome != "met" else c
                           for c in status.conditions)
        excluded = ()
    else:
        conditions, excluded = status.conditions, status.excluded_by
    return FicheStatus(status.fiche, forced, f"override.f{status.fiche}.{forced}", conditions, excluded,
                       status.unknown_facts)     # the same tests: the same facts unknown


def overridden_evaluation(evaluation: Evaluation, statuses: Mapping[int, str]) -> Evaluation:
    """The evaluation with the given fiches' statuses forced (a new object: the engine's, and
    the outcomes it shares with other evaluations, are left as they are)."""
    unknown = [n for n in statuses if n not in evaluation.statuses]
    if unknown:
        raise InputError(Phrase("override.no_fiche", fiche=unknown[0]), key="fiche")
    bad = [s for s in statuses.values() if s not in FORCED]
    if bad:
        raise InputError(Phrase("override.status", allowed=", ".join(FORCED), found=repr(bad[0])), key="status")
    forced = dict(evaluation.statuses)
    for number, status in statuses.items():
        forced[number] = _forced(evaluation.statuses[number], status)
    return replace(evaluation, statuses=forced)


def replan(record: Mapping[str, Any], statuses: Mapping[int, str], kb: Knowledge) -> dict:
    """The record's profile planned again with `statuses` forced: statuses (engine and
    override, side by side), plan steps, totals and warnings as codes and figures, and
    whether the knowledge is still the record's (when not, the engine's own statuses may
    differ from the record's too). The record's own guide edition is used, as `audit` does."""
    kb = record_knowledge(dict(record), kb)
    try:
        profile = check_profile(record["profile"], kb, file="record (profile)")
    except ProfileError as exc:
        raise InputError(Phrase("audit.inputs", detail=exc.phrase or exc.detail), key="profile") from None
    assessment = assess(profile, kb)
    evaluation = overridden_evaluation(assessment.evaluation, statuses)
    plan: Plan = build_plan(evaluation, kb)
    recorded = {e.get("fiche"): e.get("status") for e in record.get("fiches", []) if isinstance(e, dict)}
    return {
        "note": "not the engine's decision: the overrides' statuses forced, the plan built again",
        "statuses": [{"fiche": n, "engine": recorded.get(n), "override": s} for n, s in sorted(statuses.items())],
        "plan": plan.records(),
        "totals": plan.totals,
        "warnings": [w.as_dict() for w in plan.warnings],
        "knowledge_version": kb.version,
        "same_knowledge": record.get("knowledge_version") == kb.version,
    }
