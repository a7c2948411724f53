"""The assessment result (contract §4): statuses of all 27 fiches, the plan, totals, warnings.

The result is also an audit record: it carries the inputs as read, the knowledge
version, the rule trace and a digest of its decision content, so `pnman audit` can
replay it and tell tampering from a change of rules.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Mapping

import orjson

from . import __version__
from .evaluate import ConditionOutcome, Evaluation, evaluate
from .knowledge import Knowledge
from .planner import Plan, build_plan

SCHEMA = "pnman-assessment/1"
# Keys that are not decision content: they may differ between two runs of the same input.
NON_DECISION_KEYS = ("timestamp", "program_version", "decision_digest")


def _expected(test) -> Any:
    if test.op == "eq":
        return test.value
    if test.op == "contains":
        return test.value
    if test.op == "max":
        return f"<= {test.value}"
    if test.op == "size":
        return str(test.value)
    return test.value


def reason(outcome: ConditionOutcome) -> dict:
    """One failing, pending (or met) condition, with the guide's sentence behind it."""
    condition = outcome.condition
    deciding = outcome.deciding
    first = deciding[0]
    entry = {
        "condition": condition.id,
        "fact": first.test.fact,
        "expected": _expected(first.test),
        "actual": first.actual,
        "op": first.test.op,
        "outcome": outcome.outcome,
        "kind": condition.kind,
        "rule": first.rule,
        "citation": condition.citation.as_dict(),
    }
    if len(condition.tests) > 1:
        entry["facts"] = [{"fact": t.test.fact, "expected": _expected(t.test), "actual": t.actual,
                           "outcome": t.outcome, "rule": t.rule} for t in outcome.tests]
        entry["any_of"] = condition.any_of
    if first.fact_id and first.fact_id.startswith("implied:"):
        entry["derived_by"] = first.fact_id.split(":", 2)[2]
    if condition.interpretation:
        entry["interpretation"] = condition.interpretation
    return entry


def fiche_entry(evaluation: Evaluation, number: int) -> dict:
    status = evaluation.statuses[number]
    return {
        "fiche": number,
        "status": status.status,
        "rule": status.rule,
        "reasons": [reason(c) for c in status.conditions if c.outcome != "met"],
        "unknown_facts": list(status.unknown_facts),
        "conditions": [{"id": c.condition.id, "kind": c.condition.kind, "outcome": c.outcome,
                        "rules": [t.rule for t in c.tests if t.rule]} for c in status.conditions],
    }


def trace(evaluation: Evaluation, kb: Knowledge) -> list[dict]:
    """Every rule firing: the rule, the fact it matched, what it derived, and the guide behind it
    (the conditions that use a fact test and their sentences; an implication's rationale)."""
    citations = kb.test_citations()
    implications = {r["id"]: r for r in kb.guide.get("implications", [])}
    entries = []
    for firing in evaluation.firings:
        entry = {"rule": firing.rule, "facts": [firing.fact], "derived": firing.derived}
        if firing.rule in implications:
            entry["interpretation"] = implications[firing.rule]["interpretation"]
        else:
            test_id = firing.rule.rsplit(".", 1)[0]
            conditions, cited = citations.get(test_id, ([], []))
            entry["conditions"] = conditions
            entry["citations"] = cited
        entries.append(entry)
    return entries


def decision_digest(result: Mapping[str, Any]) -> str:
    """sha256 of the decision content: everything but the timestamp and program version."""
    content = {k: v for k, v in result.items() if k not in NON_DECISION_KEYS}
    return "sha256:" + hashlib.sha256(_canonical_bytes(content)).hexdigest()


def _canonical_bytes(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def canonical_json(data: Any) -> str:
    """Compact UTF-8 JSON with sorted keys: the form the digest is computed on."""
    return _canonical_bytes(data).decode("utf-8")


def build_result(evaluation: Evaluation, plan: Plan, kb: Knowledge, *, timestamp: str | None = None,
                 lang: str = "fr") -> dict:
    profile = dict(evaluation.profile)
    result = {
        "schema": SCHEMA,
        "lang": lang,
        "knowledge_version": kb.version,
        "program_version": __version__,
        "timestamp": timestamp or datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "profile": profile,
        "size_class": evaluation.size_class,
        "facts": {name: {"value": fv.value, "source": fv.source}
                  for name, fv in sorted(evaluation.facts.items())},
        "fiches": [fiche_entry(evaluation, n) for n in sorted(evaluation.statuses)],
        "plan": list(plan.steps),
        "totals": plan.totals,
        "warnings": [w.as_dict() for w in plan.warnings],
        "trace": trace(evaluation, kb),
    }
    result["decision_digest"] = decision_digest(result)
    return result


def assess(profile: Mapping[str, Any], kb: Knowledge, *, lang: str = "fr", timestamp: str | None = None) -> dict:
    """Evaluate a checked profile and plan its goals: the full result record."""
    evaluation = evaluate(profile, kb)
    plan = build_plan(evaluation, kb, lang=lang)
    return build_result(evaluation, plan, kb, timestamp=timestamp, lang=lang)
