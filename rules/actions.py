"""What the rules do when they fire, whichever engine runs them.

Both engines (durable-rules in rules/runtime.py, CLIPS in rules/clips.py) call the
same actions, so a firing is recorded, and an implication asserts its conclusion,
by one piece of code: the engines only decide which rule matches which fact.
"""
from __future__ import annotations

from operator import itemgetter
from typing import NamedTuple

from pnman.knowledge.loader import Knowledge

from . import compile as rules_compile


_name = itemgetter("name")


class Firing(NamedTuple):
    """One rule firing: which rule, which fact it matched, what it derived.

    `suppressed` marks an implication that fired onto a fact the profile states: the
    stated value wins, nothing is asserted, so nothing chains from the losing value.
    A light tuple: a session makes some fifty of them."""
    rule: str
    fact: str
    derived: str | None = None
    suppressed: bool = False


class Actions:
    """What each rule does when it fires, as plain functions `matched fact -> fact to assert`.

    Every firing is recorded (rule, the fact it matched, what it derived). An implication
    asserts its conclusion once per session, and never onto a fact the profile states."""

    def __init__(self, kb: Knowledge):
        self.firings: list[Firing] = []
        self.derived: set[str] = set()    # one implied fact per id, however many premises
        self.stated: set[str] = set()     # fact names the profile states in this session
        self.by_rule = {rule_id: self._action(kb, rule_id) for rule_id in rules_compile.definition(kb)}

    def reset(self, facts: list[dict]) -> None:
        self.firings.clear()
        self.derived.clear()
        self.stated.clear()
        self.stated.update(map(_name, facts))

    def _action(self, kb: Knowledge, rule_id: str):
        firings, derived, stated = self.firings, self.derived, self.stated
        if rule_id in (rules_compile.BEGIN, rules_compile.SINK):
            return lambda fact: None
        implication = kb.implication.get(rule_id)
        if implication is None:
            made: dict[str, Firing] = {}     # by fact id: a rule fires on a few known facts (fact_ids), so bounded

            def record(fact):
                fact_id = fact["id"]
                firing = made.get(fact_id)
                if firing is None:
                    firing = made[fact_id] = Firing(rule_id, fact_id)
                firings.append(firing)
            return record
        target, value = implication.conclusion
        derived_id = rules_compile.implied_fact_id(target, rule_id)

        def imply(fact):
            if target in stated:   # the profile's own value wins: record, assert nothing
                firings.append(Firing(rule_id, fact["id"], derived_id, suppressed=True))
                return None
            firings.append(Firing(rule_id, fact["id"], derived_id))
            if derived_id in derived:
                return None
            derived.add(derived_id)
            return {"id": derived_id, "t": "implied", "name": target, "value": value, "by": rule_id}
        return imply
