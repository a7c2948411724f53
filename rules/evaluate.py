"""Decide, for one profile, what holds: fact values, condition outcomes, fiche statuses.

`evaluate(profile) -> Evaluation` is the rules layer's one interface. A rules engine decides
the fact tests and the implications (durable-rules, rules/runtime.py, or CLIPS,
rules/clips_engine.py: rules/engines.py picks); this module reads the
firings back into three-valued outcomes:
- a condition is `met`, `failed` or `unknown` (its fact is absent: never `failed`);
- a fiche is `ineligible` when an eligibility condition fails; `unknown` when an
  eligibility condition is unknown; `conditional` when a prerequisite is missing (an
  unknown prerequisite cannot change that); `unknown` when only prerequisites are
  unknown; `eligible` otherwise (rule ids `status.<fiche>.<status>`). A status is thus
  stated only when every way of filling the unknown facts would give it.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import attrgetter, itemgetter
from typing import Any, Callable, Mapping, NamedTuple

from pnman.knowledge.conditions import Condition, Test
from pnman.knowledge.loader import Knowledge

from .compile import fact_name, outcome_rule, rule_tests
from .actions import Firing
from .engines import chosen, engine_for

STATUSES = ("eligible", "conditional", "ineligible", "unknown")


class FactValue(NamedTuple):
    """An effective fact value and where it comes from: the profile or an implication
    (a light tuple: an evaluation makes some fifty)."""
    value: Any
    source: str                 # "profile" or the implication rule id
    fact_id: str


@dataclass(frozen=True)
class Contradiction:
    """Where the profile contradicts itself: a stated fact that an implication denies (one
    rule), or implications that disagree on a fact nobody states (`stated` None, the implied
    values and the rules sorted). The rules stay a tuple of ids; the record spells them
    (engine/plan_warnings.contradiction_warning)."""
    fact: str
    stated: Any
    implied: Any                # the implied value, or a tuple of the values that disagree
    rules: tuple[str, ...]


@dataclass(frozen=True)
class TestOutcome:
    """How a test came out, and which rule and asserted fact decided it. The fact's value
    is the evaluation's (`Evaluation.actual`): outcomes are shared between evaluations."""
    test: Test
    outcome: str                # met | failed | unknown
    rule: str | None            # the rule that decided it
    fact_id: str | None


@dataclass(frozen=True)
class ConditionOutcome:
    condition: Condition
    outcome: str
    tests: tuple[TestOutcome, ...]
    # What the layers above derive from this (shared) outcome alone and keep with it (the
    # record's condition line and reason): never decision input.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property     # outcomes are shared between evaluations: each found once
    def rank(self) -> int:
        """How strongly this outcome bears on its fiche's status (_STATUS_ORDER's order; 0: met)."""
        return _RANKS.get((self.condition.kind, self.outcome), 0)

    @cached_property
    def unknown_facts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.test.fact for t in self.tests if t.outcome == "unknown"))

    @cached_property
    def deciding(self) -> tuple[TestOutcome, ...]:
        """The tests that explain the outcome (the failing or unknown ones, or all when met)."""
        if self.outcome == "met":
            return tuple(t for t in self.tests if t.outcome == "met")
        return tuple(t for t in self.tests if t.outcome == self.outcome) or self.tests


@dataclass(frozen=True)
class FicheStatus:
    fiche: int
    status: str
    rule: str
    conditions: tuple[ConditionOutcome, ...]
    # What makes the fiche ineligible, and the facts still unknown in its conditions (a met
    # any_of's too), found once: statuses are shared by evaluations.
    excluded_by: tuple[ConditionOutcome, ...] = ()
    unknown_facts: tuple[str, ...] = ()
    # What the layers above derive from this (shared) status alone and keep with it, so it
    # lives as long as the status does (the record's entry parts): never decision input.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def pending(self) -> tuple[ConditionOutcome, ...]:
        return tuple(c for c in self.conditions if c.outcome != "met")

    def failing(self, kind: str | None = None) -> tuple[ConditionOutcome, ...]:
        if kind == "eligibility":
            return self.excluded_by
        return tuple(c for c in self.conditions
                     if c.outcome == "failed" and (kind is None or c.condition.kind == kind))


def _fiche_status(fiche: int, status: str, rule: str, conditions: tuple, excluded_by: tuple, unknown: tuple) -> FicheStatus:
    """FicheStatus(...) without the frozen dataclass's __init__ (a setattr per field): the
    evaluation of a varied portfolio makes a dozen new statuses a profile. The same object
    (tests/test_caches.py compares it with the constructor's)."""
    made = _new_object(FicheStatus)
    made.__dict__.update(fiche=fiche, status=status, rule=rule, conditions=conditions, excluded_by=excluded_by,
                         unknown_facts=unknown, memo={})
    return made


_new_object = object.__new__


@dataclass(frozen=True)
class Evaluation:
    profile: Mapping[str, Any]
    size_class: str | None
    facts: Mapping[str, FactValue]
    statuses: Mapping[int, FicheStatus]
    firings: tuple[Firing, ...]
    contradictions: tuple[Contradiction, ...] = field(default=())
    engine: str = ""            # which engine decided ("durable" or "clips"): the same either way

    def status(self, fiche: int) -> str:
        return self.statuses[fiche].status

    def fact(self, name: str) -> Any:
        """Effective value of a fact (None when unknown)."""
        found = self.facts.get(name)
        return None if found is None else found.value

    def actual(self, test: Test) -> Any:
        """The value a test read: the fact's, or a list fact's whole list as the profile gives it."""
        if test.op == "contains":
            return list(self.profile.get(test.fact) or []) if fact_name(test) in self.facts else None
        return self.fact(test.fact)


NOT_A_TEST = ("an implication's firing",)     # what _Shared.firing keeps for one (a true value)


class _Shared:
    """Outcome objects shared by all the evaluations of one knowledge base.

    A condition's outcome depends only on its tests' outcomes, and a fiche's status only
    on its conditions' outcomes: once the test outcomes are interned (one object per
    distinct outcome), the 200-odd condition outcomes and the statuses of an evaluation
    are dictionary look-ups instead of new objects. The objects are frozen. Each table is
    emptied when it reaches its limit, the statuses' half by half (_keep_status): a batch of
    100,000 varied companies would otherwise keep every combination it met. Emptying a
    table at any time is safe: the keys hold `id()`s of test outcomes, and the value of
    every key keeps those outcomes alive, so an id in a key cannot be reused by another
    object while the key exists.
    """
    # A status keeps its record entry's parts (pointers to its condition outcomes' JSON, ~1.4 kB
    # in all): 16,384 of them take the memory 8,192 took when each kept a copy of its lines
    # (a full-record process, 20,000 random companies: 42 MiB grown either way), and 16,384
    # bare statuses less than the 20,000 a batch worker once kept; a varied portfolio meets
    # some statuses again hundreds of companies later (18.5 new statuses a company at 8,192).
    LIMITS = {"tests": 4_096, "firings": 4_096, "conditions": 20_000, "statuses": 16_384}

    def __init__(self, kb: Knowledge):
        self.limits = dict(self.LIMITS)
        self.tests: dict[tuple, TestOutcome] = {}
        self.firings: dict[Firing, tuple] = {}    # a firing -> (test outcome, fact read, test id), or NOT_A_TEST
        self.unknown = {test.id: self.test(test, "unknown", None, None) for test in kb.tests()}   # kept: never emptied
        self.tests_reading = Counter(fact_name(test) for test in kb.tests())     # a fact -> the tests reading it
        self.conditions = _ConditionTables()
        self.statuses: dict[tuple, FicheStatus] = {}            # the young generation (_keep_status)
        self.older_statuses: dict[tuple, FicheStatus] = {}
        self.layouts = {number: _FicheLayout.of(conditions, self.conditions) for number, conditions in kb.conditions.items()}

    def _room(self, table: dict, name: str) -> dict:
        if len(table) >= self.limits[name]:
            table.clear()
        return table

    def firing(self, kb: Knowledge, firing: Firing) -> tuple:
        """A test rule's firing as (its test's outcome, the fact it read, the test's id);
        NOT_A_TEST for an implication's (both kept)."""
        found = _rule_tests(kb).get(firing.rule)
        if found is None:
            kept = NOT_A_TEST
        else:
            test, outcome, name = found
            kept = (self.test(test, outcome, firing.rule, firing.fact), name, test.id)
        self._room(self.firings, "firings")[firing] = kept
        return kept

    def test(self, test: Test, outcome: str, rule, fact_id) -> TestOutcome:
        key = (test.id, outcome, fact_id)
        found = self.tests.get(key)
        if found is None:
            found = self._room(self.tests, "tests")[key] = TestOutcome(test, outcome, rule, fact_id)
        return found

    def fiche_statuses(self, tests: dict[str, TestOutcome]) -> dict[int, FicheStatus]:
        """Each fiche's status from the outcomes of the tests its conditions use: one look-up
        when this combination was seen before. A status is keyed by its conditions' keys
        (the id of a condition's test outcome, the ids' tuple for a condition of several)."""
        table, statuses = self.statuses, {}
        for number, layout in self.layouts.items():
            keys = list(map(id, layout.pick(tests)))
            for position, read in layout.several:
                keys[position] = tuple(map(id, read(tests)))
            key = (number, *keys)
            found = table.get(key)
            if found is None:
                found = self.older_statuses.pop(key, None) or self._new_status(number, layout, keys, tests)
                table = self._keep_status(key, found)
            statuses[number] = found
        return statuses

    def _keep_status(self, key: tuple, status: FicheStatus) -> dict:
        """Statuses are kept in two generations of half the bound each: when the young one is
        full it becomes the old one (the old one is dropped), and a status found in the old one
        moves back to the young one. Emptying the whole table at its bound dropped the
        statuses a portfolio meets again and again with the others: a varied portfolio then
        made 20.2 new statuses a company instead of 18.5 (1,000 random ones, at a bound of 8,192)."""
        young = self.statuses
        if len(young) >= self.limits["statuses"] // 2:
            self.older_statuses, young = young, {}
            self.statuses = young
        young[key] = status
        return young

    def _new_status(self, number: int, layout: _FicheLayout, keys: list, tests: dict[str, TestOutcome]) -> FicheStatus:
        """A combination not seen before (most are, in a varied portfolio): each condition's
        outcome found in its own table by its key, all in C (map), and the status from the
        strongest of them (fiche_status's rule)."""
        outcomes = list(map(dict.get, layout.tables, keys))
        if not all(outcomes):
            self._add_conditions(layout, keys, outcomes, tests)
        strongest = max(map(_rank, outcomes), default=0)      # a fiche without conditions: eligible
        status = _STATUS_BY_RANK[strongest]
        excluded_by = tuple(c for c in outcomes if c.rank == _INELIGIBLE) if strongest == _INELIGIBLE else ()
        return _fiche_status(number, status, _STATUS_RULES[number, status], tuple(outcomes), excluded_by,
                             unknown_facts(outcomes))

    def _add_conditions(self, layout: _FicheLayout, keys: list, outcomes: list, tests: dict[str, TestOutcome]) -> None:
        """The condition outcomes not met before, made and kept (`outcomes` filled in place)."""
        tables = self.conditions
        for position, found in enumerate(outcomes):
            if found is None:
                condition = layout.conditions[position]
                outcome = outcomes[position] = _condition_outcome(condition, tuple(tests[t] for t in condition.test_ids))
                if len(tables) >= self.limits["conditions"]:
                    tables.clear()
                tables.add(layout.tables[position], keys[position], outcome)


class _ConditionTables:
    """One table per condition of the guide, its outcomes by the ids of its tests' outcomes
    (one test but for two conditions: the id alone), bounded together."""

    def __init__(self):
        self.tables: list[dict] = []
        self.size = 0

    def new(self) -> dict:
        self.tables.append({})
        return self.tables[-1]

    def add(self, table: dict, key, outcome: ConditionOutcome) -> None:
        table[key] = outcome
        self.size += 1

    def __len__(self) -> int:
        return self.size

    def clear(self) -> None:
        for table in self.tables:
            table.clear()
        self.size = 0


@dataclass(frozen=True)
class _FicheLayout:
    """How a fiche's condition outcomes are found: `pick` takes the outcome of each
    condition's (first) test, in the conditions' order; `several` reads the whole tuple for
    the few conditions with more than one test; `tables` are the conditions' own tables."""
    conditions: tuple[Condition, ...]
    pick: Callable[[dict], tuple]
    several: tuple[tuple[int, Callable[[dict], tuple]], ...]
    tables: tuple[dict, ...]

    @classmethod
    def of(cls, conditions: tuple[Condition, ...], tables: _ConditionTables) -> _FicheLayout:
        first = [condition.test_ids[0] for condition in conditions]
        pick = itemgetter(*first) if len(first) > 1 else (lambda tests, only=tuple(first): tuple(map(tests.__getitem__, only)))
        several = tuple((position, itemgetter(*condition.test_ids)) for position, condition in enumerate(conditions)
                        if len(condition.test_ids) > 1)
        return cls(conditions, pick, several, tuple(tables.new() for _ in conditions))


@lru_cache(maxsize=4)
def _shared(kb: Knowledge) -> _Shared:
    return _Shared(kb)


def profile_facts(profile: Mapping[str, Any], kb: Knowledge) -> list[dict]:
    """The facts asserted for a profile: one per known key; lists as one fact per code.
    The dictionaries are shared between evaluations (_AssertedFacts): never change one."""
    return list(map(_fact, _asserted(profile, kb)))


def _asserted(profile: Mapping[str, Any], kb: Knowledge) -> list[tuple[dict, str, FactValue]]:
    """Each asserted fact with its name and its FactValue, found once per (key, value)."""
    table, found = _asserted_facts(kb), []
    for key in sorted(profile):
        value = profile[key]
        if value is not None:
            found += table[key, value.__class__, tuple(value) if value.__class__ is list else value]
    return found


class _AssertedFacts(dict):
    """One knowledge's asserted facts by the profile's (key, value type, value): the fact
    dictionaries, their names and FactValues, made once (a portfolio states the same
    few hundred values again and again); emptied at its bound."""
    LIMIT = 4_096

    def __init__(self, kb: Knowledge):
        super().__init__()
        self.kb = kb

    def __missing__(self, key: tuple) -> tuple:
        name, _, value = key
        spec = self.kb.facts.get(name)
        if spec is None or spec.role in ("identity", "request"):
            facts = ()
        elif spec.type == "list":
            facts = tuple(_asserted_fact(f"{name}.{code}", code in value) for code in spec.choices)
        else:
            facts = (_asserted_fact(name, value),)
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = facts
        return facts


def _asserted_fact(name: str, value: Any) -> tuple[dict, str, FactValue]:
    fact_id = f"attr:{name}"
    return {"id": fact_id, "t": "attr", "name": name, "value": value}, name, FactValue(value, "profile", fact_id)


@lru_cache(maxsize=4)
def _asserted_facts(kb: Knowledge) -> _AssertedFacts:
    return _AssertedFacts(kb)


_fact, _fact_name, _fact_value = itemgetter(0), itemgetter(1), itemgetter(2)


def _resolve(asserted: list[tuple[dict, str, FactValue]], firings: list[Firing], kb: Knowledge):
    """Effective facts: the profile's own values win; implications fill the gaps (a
    suppressed firing, onto a stated fact, only shows up as a contradiction)."""
    facts: dict[str, FactValue] = dict(zip(map(_fact_name, asserted), map(_fact_value, asserted)))
    implied: dict[str, list[tuple[Any, str, str]]] = {}
    for firing in firings:
        if firing.derived:
            target, value = kb.implication[firing.rule].conclusion
            implied.setdefault(target, []).append((value, firing.rule, firing.derived))
    contradictions = []
    for target in sorted(implied):
        options = implied[target]
        values = {value for value, _, _ in options}
        if target in facts:
            stated = facts[target].value
            for value, rule, _ in options:
                if value != stated:
                    contradictions.append(Contradiction(target, stated, value, (rule,)))
            continue
        if len(values) > 1:
            contradictions.append(Contradiction(target, None, tuple(sorted(values)), tuple(sorted(r for _, r, _ in options))))
            continue
        value, rule, fact_id = sorted(options, key=lambda o: o[1])[0]
        facts[target] = FactValue(value, rule, fact_id)
    return facts, tuple(contradictions)


@lru_cache(maxsize=4)
def _test_rules(kb: Knowledge) -> tuple[tuple[Test, str, str, str], ...]:
    """Each test with the fact it reads and its two rules' ids, made once per knowledge."""
    return tuple((test, fact_name(test), outcome_rule(test, "met"), outcome_rule(test, "failed")) for test in kb.tests())


@lru_cache(maxsize=4)
def _rule_tests(kb: Knowledge) -> dict[str, tuple[Test, str, str]]:
    """The compile step's rule → test table, with what an evaluation reads beside each
    test: the outcome the rule decides and the fact the test reads."""
    return {rule: (test, "met" if rule == outcome_rule(test, "met") else "failed", fact_name(test))
            for rule, test in rule_tests(kb).items()}


def _test_outcomes(kb: Knowledge, facts: Mapping[str, FactValue], firings: list[Firing],
                   shared: _Shared) -> dict[str, TestOutcome]:
    """Each test's outcome: decided by the test rule that fired on the fact in force (an
    implied value the profile overrides fires too, and decides nothing); unknown when the
    fact is. Read from the firings, a few dozen, each found once as its test's outcome."""
    by_firing = shared.firings
    decided = {}
    for firing in firings:
        found = by_firing.get(firing) or shared.firing(kb, firing)
        if found is NOT_A_TEST:
            continue        # an implication's firing
        outcome, name, test_id = found
        source = facts.get(name)
        if source is not None and source.fact_id == firing.fact:
            decided[test_id] = outcome
    outcomes = shared.unknown.copy()
    outcomes.update(decided)
    if len(decided) != sum(map(shared.tests_reading.get, facts, itertools.repeat(0))):   # pragma: no cover
        missing = [test.id for test, name, _, _ in _test_rules(kb) if name in facts and test.id not in decided]
        raise RuntimeError(f"no rule decided {missing}: every known fact fires one of its tests' two rules")
    return outcomes


def unknown_facts(outcomes) -> tuple[str, ...]:
    """The facts still unknown in these condition outcomes, each once, in order."""
    found = list(filter(None, map(_unknown, outcomes)))
    if len(found) < 2:
        return found[0] if found else ()
    return tuple(dict.fromkeys(itertools.chain.from_iterable(found)))


def _condition_outcome(condition: Condition, results: tuple[TestOutcome, ...]) -> ConditionOutcome:
    if len(results) == 1:
        return ConditionOutcome(condition, results[0].outcome, results)
    kinds = {r.outcome for r in results}
    if condition.any_of:
        outcome = "met" if "met" in kinds else "unknown" if "unknown" in kinds else "failed"
    else:
        outcome = "failed" if "failed" in kinds else "unknown" if "unknown" in kinds else "met"
    return ConditionOutcome(condition, outcome, results)


# (condition kind, outcome) → the status it leads to, strongest first.
_STATUS_ORDER = ((("eligibility", "failed"), "ineligible"), (("eligibility", "unknown"), "unknown"),
                 (("prerequisite", "failed"), "conditional"),   # whatever the unknown prerequisites are
                 (("prerequisite", "unknown"), "unknown"))
# The same order as ranks: a condition outcome's rank, the status of each rank (0: all met).
_RANKS = {pair: len(_STATUS_ORDER) - index for index, (pair, _) in enumerate(_STATUS_ORDER)}
_STATUS_BY_RANK = ("eligible",) + tuple(status for _, status in reversed(_STATUS_ORDER))
_INELIGIBLE = _RANKS["eligibility", "failed"]
_rank, _unknown = attrgetter("rank"), attrgetter("unknown_facts")        # read in C (cached properties live in the instance's dict)


def fiche_status(fiche: int, outcomes: tuple[ConditionOutcome, ...]) -> str:
    return _status_of({(c.condition.kind, c.outcome) for c in outcomes})


def _status_of(found: set[tuple[str, str]]) -> str:
    """The status the strongest (condition kind, outcome) pair found leads to."""
    for pair, status in _STATUS_ORDER:
        if pair in found:
            return status
    return "eligible"


class _StatusRules(dict):
    """`status.f<fiche>.<status>`, each spelled once."""

    def __missing__(self, key: tuple[int, str]) -> str:
        if len(self) >= 1_000:      # 27 fiches × 4 statuses in the guide: a bound all the same
            self.clear()
        rule = self[key] = f"status.f{key[0]}.{key[1]}"
        return rule


_STATUS_RULES = _StatusRules()


def evaluate(profile: Mapping[str, Any], kb: Knowledge) -> Evaluation:
    """Evaluate every fiche of the guide for one (checked) profile."""
    asserted = _asserted(profile, kb)
    engine = chosen()
    firings = engine_for(kb, engine).run(list(map(_fact, asserted)))
    return _evaluation(profile, kb, asserted, firings, engine)


def evaluate_trial(profile: Mapping[str, Any], kb: Knowledge) -> Evaluation:
    """The same evaluation with the rules fired in plain Python (rules/chaining.py): for the
    questioning's « what if » trials only, never for a status anyone is shown."""
    from .chaining import chain
    asserted = _asserted(profile, kb)
    return _evaluation(profile, kb, asserted, chain(list(map(_fact, asserted)), kb), "chaining")


def _evaluation(profile: Mapping[str, Any], kb: Knowledge, asserted: list[tuple[dict, str, FactValue]], firings: list,
                engine: str) -> Evaluation:
    facts, contradictions = _resolve(asserted, firings, kb)
    shared = _shared(kb)
    tests = _test_outcomes(kb, facts, firings, shared)
    statuses = shared.fiche_statuses(tests)
    employees = profile.get("employees")
    return Evaluation(profile, kb.size_class(employees), facts, statuses, tuple(firings), contradictions, engine)

