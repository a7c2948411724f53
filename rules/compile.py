"""Compile the knowledge base into one durable-rules ruleset (JSON definition).

Rules are named after what they decide, so a trace reads like the guide:
- `implies.<…>` fill a fact the profile leaves unknown from one it states
  (knowledge/guide.yaml, `implications`); never onto a fact the profile states;
- `test.<fact>.<op>.<value>.met|failed` decide one fact test used by the fiches'
  conditions. Conditions share tests, so a fact fires at most a few rules however many
  fiches cite it (durable-rules fails when one fact matches more than 64 conditions).
Unknown facts are simply absent: no rule fires for them, which is how "unknown" stays
different from "false".
"""
from __future__ import annotations

from functools import lru_cache

from pnman.knowledge.conditions import Test
from pnman.knowledge.errors import KnowledgeError
from pnman.knowledge.loader import Knowledge

BEGIN = "__begin__"
SINK = "__sink__"
OUTCOMES = ("met", "failed")       # the two rules of a fact test


def outcome_rule(test: Test, outcome: str) -> str:
    """The id of the rule that decides `test` with `outcome` (`met` or `failed`): the one
    place that spells it; `rule_tests` says which test a rule id decides."""
    return f"{test.id}.{outcome}"


def implied_fact_id(target: str, rule_id: str) -> str:
    """The id of the fact an implication asserts (`implied:<fact>:<rule>`): spelled here only;
    what it says is read from the Firing and the FactValue, never from the id."""
    return f"implied:{target}:{rule_id}"


@lru_cache(maxsize=4)
def rule_tests(kb: Knowledge) -> dict[str, Test]:
    """Each fact test rule's id → the test it decides (a trace reads a firing's test here,
    never from the rule's name). Implications are not in it: kb.implication has them."""
    return {outcome_rule(test, outcome): test for test in kb.tests() for outcome in OUTCOMES}


def fact_name(test: Test) -> str:
    """The asserted fact a test reads: list membership is asserted as one fact per code."""
    if test.op == "contains":
        return f"{test.fact}.{test.value}"
    return test.fact


def _test_patterns(test: Test) -> tuple[dict, dict]:
    name = {"name": fact_name(test)}
    if test.op in ("eq", "contains"):
        expected = True if test.op == "contains" else test.value
        met = {"$and": [name, {"value": expected}]}
        failed = {"$and": [name, {"$neq": {"value": expected}}]}
    elif test.op == "max":
        met = {"$and": [name, {"$lte": {"value": test.value}}]}
        failed = {"$and": [name, {"$gt": {"value": test.value}}]}
    elif test.op == "size":
        low, high = test.value       # a knowledge.conditions.SizeRange
        met = {"$and": [name, {"$gte": {"value": low}}, {"$lte": {"value": high}}]}
        failed = {"$and": [name, {"$or": [{"$lt": {"value": low}}, {"$gt": {"value": high}}]}]}
    else:  # pragma: no cover - the loader only builds the ops above
        raise ValueError(f"unknown test op {test.op}")
    return met, failed


def definition(kb: Knowledge) -> dict:
    """The ruleset as durable-rules JSON: {rule_id: {'all': [...], 'pri': n}} (no actions yet)."""
    rules: dict[str, dict] = {
        BEGIN: {"all": [{"m": {"t": BEGIN}}]},
        SINK: {"all": [{"a": _sink_pattern(kb)}, {"b": {"t": "__never__"}}]},
    }
    for rule in kb.implications:
        premise, value = rule.premise
        rules[rule.id] = {"all": [{"m": {"$and": [{"name": premise}, {"value": value}]}}], "pri": 1}
    for test in kb.tests():
        met, failed = _test_patterns(test)
        rules[outcome_rule(test, "met")] = {"all": [{"m": met}], "pri": 2}
        rules[outcome_rule(test, "failed")] = {"all": [{"m": failed}], "pri": 2}
    return rules


@lru_cache(maxsize=4)
def read_names(kb: Knowledge) -> frozenset[str]:
    """The fact names some rule reads (a test, an implication's premise): a fact of another
    name would only reach the sink rule, so the drivers do not assert it (the actions still
    know the profile states it: an implication onto it is suppressed all the same)."""
    return frozenset(_tested_names(kb) | {rule.premise[0] for rule in kb.implications})


def _tested_names(kb: Knowledge) -> set[str]:
    """The fact names some test reads."""
    return {fact_name(test) for test in kb.tests()}


def _sink_pattern(kb: Knowledge) -> dict:
    """What the sink rule takes in: the facts no test reads (an implication's premise or
    conclusion only; the drivers assert no fact that no rule reads), so that every fact is
    "handled" (durable refuses a fact no rule can match, and with it the whole batch) without
    the rule ever firing. A fact some test reads is always matched by one of that test's two
    rules (met and failed cover every value). The sink took in every fact before, and kept
    each in its join's memory: ~1 % of an assessment (an `$or` of many names costs more)."""
    unread = sorted({name for rule in kb.implications for name in (rule.premise[0], rule.conclusion[0])}
                    - _tested_names(kb))
    if not unread:
        return {"t": "__never__"}
    return {"name": unread[0]} if len(unread) == 1 else {"$or": [{"name": name} for name in unread]}


def fact_ids(kb: Knowledge) -> list[str]:
    """Every fact id an evaluation can assert, for the hash-collision check."""
    ids = {BEGIN}
    for fact, spec in kb.facts.items():
        if spec.type == "list":
            ids.update(f"attr:{fact}.{code}" for code in spec.choices)
        ids.add(f"attr:{fact}")
    for rule in kb.implications:
        ids.add(implied_fact_id(rule.conclusion[0], rule.id))
    return sorted(ids)


def fnv1a_32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode("ascii"):
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def check_fact_ids(ids: list[str]) -> None:
    """durable-rules identifies facts by a 32-bit hash of their id: refuse collisions."""
    seen: dict[int, str] = {}
    for fact_id in ids:
        try:
            digest = fnv1a_32(fact_id)
        except UnicodeEncodeError:
            raise KnowledgeError(f"fact id {fact_id!r} is not ASCII") from None
        if digest in seen:
            raise KnowledgeError(f"fact ids {seen[digest]!r} and {fact_id!r} collide in durable-rules' 32-bit hash")
        seen[digest] = fact_id
