"""The compiled rules run in plain Python, for the questioning's trials only.

Choosing the next question means asking « would another answer to this fact change the
outcome? » for several facts and answers: a few dozen evaluations per answer, each a rules
engine session (a third of a millisecond) when only one fact differs. This module fires
the same rules as rules/compile.py defines — a fact test's `met` or `failed` rule for
every asserted fact it reads, an implication for every fact matching its premise, once
per derived fact and never onto a fact the profile states — with the same firings as
the engine gives (tests/test_chaining.py compares them over random profiles). It only
ever decides what to ask: every status, plan and record a person sees comes from the
rules engine (rules/evaluate.evaluate).
"""
from __future__ import annotations

from collections import deque
from functools import lru_cache
from typing import Any, Callable

from pnman.knowledge.conditions import Test
from pnman.knowledge.loader import Knowledge

from .actions import Firing
from .compile import fact_name, implied_fact_id, outcome_rule


def _predicate(test: Test) -> Callable[[Any], bool]:
    """The `met` pattern of rules/compile._test_patterns as a Python test (`failed` is its negation
    for the values a checked profile can hold)."""
    if test.op == "eq":
        return lambda value, expected=test.value: value == expected
    if test.op == "contains":
        return lambda value: value is True
    if test.op == "max":
        return lambda value, ceiling=test.value: value <= ceiling
    if test.op == "size":
        low, high = test.value       # a knowledge.conditions.SizeRange
        return lambda value: low <= value <= high
    raise ValueError(f"unknown test op {test.op}")   # pragma: no cover - the loader only builds the ops above


@lru_cache(maxsize=4)
def _rules(kb: Knowledge):
    """By fact name: its tests (predicate and rule ids), and the implications whose premise it is."""
    tests: dict[str, list[tuple[Callable[[Any], bool], str, str]]] = {}
    for test in kb.tests():
        tests.setdefault(fact_name(test), []).append((_predicate(test), outcome_rule(test, "met"), outcome_rule(test, "failed")))
    implications: dict[str, list[tuple[Any, str, str, Any]]] = {}
    for rule in kb.implications:
        (premise, expected), (target, value) = rule.premise, rule.conclusion
        implications.setdefault(premise, []).append((expected, rule.id, target, value))
    return tests, implications


def chain(facts: list[dict], kb: Knowledge) -> list[Firing]:
    """The firings of a session asserting `facts` (rules/evaluate.profile_facts): the same
    set as the rules engine's (the same `Firing` tuples), in an order of their own."""
    tests, implications = _rules(kb)
    stated = {fact["name"] for fact in facts}
    derived: set[str] = set()
    firings: list[Firing] = []
    queue = deque(facts)
    while queue:
        fact = queue.popleft()
        name, value, fact_id = fact["name"], fact["value"], fact["id"]
        for expected, rule_id, target, conclusion in implications.get(name, ()):
            if value != expected or value.__class__ is not expected.__class__:
                continue
            derived_id = implied_fact_id(target, rule_id)
            if target in stated:       # the profile's own value wins: recorded, nothing asserted
                firings.append(Firing(rule_id, fact_id, derived_id, suppressed=True))
                continue
            firings.append(Firing(rule_id, fact_id, derived_id))
            if derived_id not in derived:
                derived.add(derived_id)
                queue.append({"id": derived_id, "name": target, "value": conclusion})
        for met, met_rule, failed_rule in tests.get(name, ()):
            firings.append(Firing(met_rule if met(value) else failed_rule, fact_id))
    return firings
