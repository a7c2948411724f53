"""The one place that talks to durable-rules.

durable-rules 2.0.28 is unmaintained and has sharp edges (see shared/notes/durable-rules.md);
this module applies the safe session pattern so nothing else needs to know:
explicit ASCII fact ids checked for 32-bit hash collisions, one Host per process with
its timer threads never started, `__begin__` asserted alone first, a sink rule,
exceptions read back from the session state, `delete_state` always.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

from knowledge.errors import KnowledgeError
from knowledge.loader import Knowledge

from . import compile as rules_compile

RULESET_PREFIX = "pnman"


@dataclass(frozen=True)
class Firing:
    """One rule firing: which rule, which fact it matched, what it derived.

    `suppressed` marks an implication that fired onto a fact the profile states: the
    stated value wins, nothing is asserted, so nothing chains from the losing value."""
    rule: str
    fact: str
    derived: str | None = None
    suppressed: bool = False


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


def _quiet_host_class():
    from durable import engine as durable_engine  # the only durable import of pnman

    class QuietHost(durable_engine.Host):
        """durable's Host without its background threads.

        `Host.__init__` starts two timers that wake every 0.2 s to dispatch queued actions
        and rule timers. pnman uses no timers and runs every action synchronously; the
        dispatch thread can take a live session's pending actions, which showed as lost
        firings, `error code: 307` and segfaults under load (1 in 3 `batch --jobs 2` runs
        on 10,000 rows). Not starting them removes the race at no cost."""

        def _run(self):
            return None

    return QuietHost


class RuleEngine:
    """A compiled ruleset in this process's single durable-rules host."""

    _host = None
    _count = itertools.count()

    def __init__(self, kb: Knowledge):
        check_fact_ids(rules_compile.fact_ids(kb))
        self.kb = kb
        self.name = f"{RULESET_PREFIX}_{kb.version.replace('-', '_')}_{next(self._count)}_{os.getpid()}"
        self._firings: list[Firing] = []
        self._derived: set[str] = set()   # one implied fact per id, however many premises
        self._stated: set[str] = set()    # fact names the profile states in this session
        definition = rules_compile.definition(kb)
        for rule_id, rule in definition.items():
            rule["run"] = self._action(rule_id)
        if RuleEngine._host is None:
            RuleEngine._host = _quiet_host_class()()
        self.host = RuleEngine._host
        self.host.register_rulesets({self.name: definition})
        self._sids = itertools.count(1)

    def _action(self, rule_id: str):
        """Build the action for one rule; exactly one parameter (durable's sync convention)."""
        firings, derived, stated = self._firings, self._derived, self._stated
        if rule_id in (rules_compile.BEGIN, rules_compile.SINK):
            def noop(c):
                return None
            return noop
        implication = self.kb.implication.get(rule_id)
        if implication is not None:
            target, value = implication.conclusion
            derived_id = f"implied:{target}:{rule_id}"

            def imply(c):
                if target in stated:   # the profile's own value wins: record, assert nothing
                    firings.append(Firing(rule_id, c.m["id"], derived_id, suppressed=True))
                    return
                firings.append(Firing(rule_id, c.m["id"], derived_id))
                if derived_id in derived:
                    return
                derived.add(derived_id)
                c.assert_fact({"id": derived_id, "t": "implied", "name": target, "value": value, "by": rule_id})
            return imply

        def record(c):
            firings.append(Firing(rule_id, c.m["id"]))
        return record

    def run(self, facts: list[dict]) -> list[Firing]:
        """Assert the facts in a fresh session and return the firings, in order."""
        sid = str(next(self._sids))
        self._firings.clear()
        self._derived.clear()
        self._stated.clear()
        self._stated.update(f["name"] for f in facts)
        try:
            self.host.assert_fact(self.name, {"sid": sid, "id": rules_compile.BEGIN, "t": rules_compile.BEGIN})
            if facts:
                self.host.assert_facts(self.name, [dict(fact, sid=sid) for fact in facts])
            state = self.host.get_state(self.name, sid)
            if state and "exception" in state:
                raise RuntimeError(f"a rule action failed: {state['exception']}")
            return list(self._firings)
        finally:
            self.host.delete_state(self.name, sid)
