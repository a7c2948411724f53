"""The assessment record (contract §4): statuses of every fiche, the plan, totals, warnings.

The record is also an audit record: it carries the inputs as read, the knowledge
version, the rule trace and a digest of its decision content, so `pnman audit` can
replay it and tell tampering from a change of rules.

The engine's record has no wording. The faces add the words for a person (a step's
`label`, a warning's `message`, the catalogue used); knowledge.locales.LOCALISED lists
those fields and the digest leaves them out, so the French and the English record of
one profile share it.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Mapping

import orjson

from pnman.knowledge.loader import Knowledge
from pnman.knowledge.locales import LOCALISED
from pnman.rules.evaluate import ConditionOutcome, Evaluation

from . import __version__
from .plan_warnings import PlanWarning
from .steps import PlanStep

SCHEMA = "pnman-assessment/1"
# Keys that are not decision content: they may differ between two runs of the same input
# (`registry`: where the registry chained the record, pnman.records; `engine`: which
# rules engine ran, durable-rules or CLIPS, which decide alike).
NON_DECISION_KEYS = ("timestamp", "program_version", "engine", "decision_digest", "record_hash", "registry")
# What the record hash leaves out: itself, where the file was read from, and where a registry
# chained it (`registry`: the chain's own hash covers that block; leaving it out here spares
# sealing the record again when it is appended).
NOT_HASHED = ("record_hash", "_source", "registry")


def _expected(test) -> Any:
    if test.op == "max":
        return f"<= {test.value}"
    if test.op == "size":
        return str(test.value)
    return test.value


def reason(outcome: ConditionOutcome, evaluation: Evaluation) -> dict:
    """One failing, pending (or met) condition, with the guide's sentence behind it and the
    values the evaluation read."""
    condition = outcome.condition
    first = outcome.deciding[0]
    entry = {
        "condition": condition.id,
        "fact": first.test.fact,
        "expected": _expected(first.test),
        "actual": evaluation.actual(first.test),
        "op": first.test.op,
        "outcome": outcome.outcome,
        "kind": condition.kind,
        "rule": first.rule,
        "citation": condition.citation.as_dict(),
    }
    if len(condition.tests) > 1:
        entry["facts"] = [{"fact": t.test.fact, "expected": _expected(t.test), "actual": evaluation.actual(t.test),
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
        "rule_origin": "python",        # a status is derived in Python from the conditions' outcomes
        "reasons": [reason(c, evaluation) for c in status.conditions if c.outcome != "met"],
        "unknown_facts": list(status.unknown_facts),
        "conditions": [{"id": c.condition.id, "kind": c.condition.kind, "outcome": c.outcome,
                        "rules": [t.rule for t in c.tests if t.rule]} for c in status.conditions],
    }


def trace(evaluation: Evaluation, kb: Knowledge) -> list[dict]:
    """Every rule firing: the rule, the fact it matched, what it derived, and the guide behind it
    (the conditions that use a fact test and their sentences; an implication's rationale)."""
    citations = kb.test_citations()
    entries = []
    for firing in evaluation.firings:
        entry = {"rule": firing.rule, "origin": "engine", "facts": [firing.fact], "derived": firing.derived}
        implication = kb.implication.get(firing.rule)
        if implication is not None:
            entry["interpretation"] = implication.interpretation
            if firing.suppressed:
                entry["suppressed"] = "the profile states this fact: its value is kept"
        else:
            test_id = firing.rule.rsplit(".", 1)[0]
            conditions, cited = citations.get(test_id, ([], []))
            entry["conditions"] = conditions
            entry["citations"] = cited
        entries.append(entry)
    return entries


def decision_content(record: Mapping[str, Any]) -> dict:
    """The record without what may differ between runs or wordings: what the digest covers."""
    content = {k: v for k, v in record.items() if k not in NON_DECISION_KEYS and k not in LOCALISED[""]}
    for key, fields in LOCALISED.items():
        if key and isinstance(content.get(key), list):
            content[key] = [{k: v for k, v in item.items() if k not in fields} if isinstance(item, dict) else item
                            for item in content[key]]
    return content


def decision_digest(record: Mapping[str, Any]) -> str:
    """sha256 of the decision content: no timestamp, program version or wording."""
    return "sha256:" + hashlib.sha256(_canonical_bytes(decision_content(record))).hexdigest()


def record_hash(record: Mapping[str, Any]) -> str:
    """sha256 of the whole record as it leaves pnman (time, versions and wording included):
    `decision_digest` says two records decide the same; this says the file is as written."""
    content = {k: v for k, v in record.items() if k not in NOT_HASHED}
    return "sha256:" + hashlib.sha256(_canonical_bytes(content)).hexdigest()


def seal(record: Mapping[str, Any]) -> dict:
    """The record with its `record_hash`, last of all, once nothing will be added to it."""
    sealed = {k: v for k, v in record.items() if k != "record_hash"}
    sealed["record_hash"] = record_hash(sealed)
    return sealed


def _canonical_bytes(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def canonical_json(data: Any) -> str:
    """Compact UTF-8 JSON with sorted keys: the form the digest is computed on."""
    return _canonical_bytes(data).decode("utf-8")


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def build_record(evaluation: Evaluation, steps: tuple[PlanStep, ...], totals: dict, warnings: tuple[PlanWarning, ...], kb: Knowledge, *,
                 timestamp: str | None = None) -> dict:
    record = {
        "schema": SCHEMA,
        "knowledge_version": kb.version,
        "edition": kb.edition,          # the guide edition whose figures decided (decision content)
        "program_version": __version__,
        "engine": evaluation.engine,
        "timestamp": timestamp or now(),
        "profile": dict(evaluation.profile),
        "size_class": evaluation.size_class,
        "facts": {name: {"value": fv.value, "source": fv.source}
                  for name, fv in sorted(evaluation.facts.items())},
        "fiches": [fiche_entry(evaluation, n) for n in sorted(evaluation.statuses)],
        "plan": [step.as_dict() for step in steps],
        "totals": totals,
        "warnings": [w.as_dict() for w in warnings],
        "trace": trace(evaluation, kb),
    }
    record["decision_digest"] = decision_digest(record)
    return record
