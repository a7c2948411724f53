"""The one place that talks to CLIPS (through clipspy): the engine where durable-rules
cannot install (CPython 3.13 and later), or when PNMAN_ENGINE=clips.

The knowledge is compiled into one CLIPS environment per knowledge base: a template
`f` (id, name, value) for the asserted facts and one `defrule` per rule of
rules/compile.py, under the same rule ids. Both engines must give the same firings in
the same order (the trace is decision content): durable fires by priority, then by the
rule's place in the ruleset, then the most recently asserted fact first. Here each rule
gets its own salience in that order, and CLIPS's default `depth` strategy puts the
newest activation first among equal saliences: the same order (tests/test_engines.py
compares the two on every case, example and thousands of random profiles).

The firings are then read back through the same actions as durable's (rules/actions.py),
which record each one and mark an implication onto a stated fact as suppressed.
"""
from __future__ import annotations

import threading

from pnman.knowledge.conditions import Test
from pnman.knowledge.loader import Knowledge

from . import compile as rules_compile
from .actions import Actions, Firing

TEMPLATE = "f"
TEMPLATE_BYTES = TEMPLATE.encode()
LOG = "log"
SALIENCE_TOP = 9000      # CLIPS accepts -10000..10000


def literal(value) -> str:
    """A Python value as a CLIPS constant, as clipspy converts it when a fact is asserted."""
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise ValueError(f"no CLIPS constant for {value!r}")


def _test_constraints(test: Test) -> tuple[str, str]:
    """The `value` slot constraints of a test's `met` and `failed` rules (durable's patterns
    in rules/compile.py, in CLIPS): a comparison never matches a value that is not a number."""
    if test.op in ("eq", "contains"):
        expected = literal(True if test.op == "contains" else test.value)
        return expected, f"?v&~{expected}"
    if test.op == "max":
        bound = int(test.value)
        return (f"?v&:(and (numberp ?v) (<= ?v {bound}))", f"?v&:(and (numberp ?v) (> ?v {bound}))")
    if test.op == "size":
        low, high = test.value       # a knowledge.conditions.SizeRange
        return (f"?v&:(and (numberp ?v) (>= ?v {low}) (<= ?v {high}))",
                f"?v&:(and (numberp ?v) (or (< ?v {low}) (> ?v {high})))")
    raise ValueError(f"unknown test op {test.op}")   # pragma: no cover - the loader only builds the ops above


def constructs(kb: Knowledge) -> tuple[list[str], list[str]]:
    """The CLIPS constructs for a knowledge base, and the rule ids by position.

    A firing appends `position fact-id;` to the global ?*log*, read once after the run
    (a call back into Python per firing cost four times durable's whole session). An
    implication asserts its conclusion unless the profile states that fact (a fact whose
    `stated` slot is TRUE: every fact asserted from Python); asserting the same implied fact twice is a no-op in CLIPS."""
    definition = rules_compile.definition(kb)
    index = {rule: i for i, rule in enumerate(definition)}
    ordered = sorted((rule for rule in definition if rule not in (rules_compile.BEGIN, rules_compile.SINK)),
                     key=lambda rule: (definition[rule].get("pri", 0), index[rule]))
    patterns: dict[str, tuple[str, str]] = {}
    for implication in kb.implications:
        premise, value = implication.premise
        target, conclusion = implication.conclusion
        stated = (f'(any-factp ((?s {TEMPLATE})) (and (eq ?s:name {literal(target)}) '
                  f'(eq ?s:stated TRUE)))')
        derived = literal(rules_compile.implied_fact_id(target, implication.id))
        patterns[implication.id] = (
            f"({TEMPLATE} (id ?id) (name {literal(premise)}) (value {literal(value)}))",
            f"(if (not {stated}) then (assert ({TEMPLATE} (id {derived}) (name {literal(target)}) "
            f"(value {literal(conclusion)}) (stated FALSE))))")
    for test in kb.tests():
        name = literal(rules_compile.fact_name(test))
        for outcome, constraint in zip(rules_compile.OUTCOMES, _test_constraints(test)):
            patterns[rules_compile.outcome_rule(test, outcome)] = (f"({TEMPLATE} (id ?id) (name {name}) (value {constraint}))", "")
    # `stated`: a fact the profile states (asserted from Python, the default) or one an
    # implication derived (asserted by its rule with FALSE) — a slot, not a prefix of its id.
    built = [f"(deftemplate {TEMPLATE} (slot id) (slot name) (slot value) (slot stated (default TRUE)))",
             f'(defglobal ?*{LOG}* = "")']
    for position, rule in enumerate(ordered):
        pattern, then = patterns[rule]
        log = f'(bind ?*{LOG}* (str-cat ?*{LOG}* {position} " " ?id ";"))'
        built.append(f"(defrule r{position} (declare (salience {SALIENCE_TOP - position})) {pattern} => {log} {then})")
    return built, ordered


class ClipsEngine:
    """A compiled knowledge base in one CLIPS environment; `run` is one session.

    Facts are asserted through CLIPS's fact builder directly (clipspy's `assert_fact`
    converts every slot through Python objects: three times slower)."""

    kind = "clips"

    def __init__(self, kb: Knowledge):
        import clips   # clipspy: only here
        from clips._clips import ffi, lib
        from clips.common import environment_builder
        self.kb = kb
        self._actions = Actions(kb)
        self._env = clips.Environment()
        built, rules = constructs(kb)
        for construct in built:
            self._env.build(construct)
        self._by_position = [self._actions.by_rule[rule] for rule in rules]
        self._log = self._env.find_global(LOG)
        self._ffi, self._lib = ffi, lib
        self._raw = self._env._env
        self._builder = environment_builder(self._raw, "fact")
        self._value = ffi.new("CLIPSValue *")
        self._encoded: dict[str, tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()   # a CLIPS environment serves one caller at a time

    def run(self, facts: list[dict]) -> list[Firing]:
        """Assert the facts in a fresh session and return the firings, in order."""
        with self._lock:
            lib, raw = self._lib, self._raw
            lib.Reset(raw)      # no earlier session's facts, the log emptied
            try:
                self._assert_all(facts)
                lib.Run(raw, -1)
                log = self._log.value
            finally:
                lib.Reset(raw)
            self._actions.reset(facts)
            by_position = self._by_position
            for entry in log.split(";")[:-1]:
                position, fact_id = entry.split(" ", 1)
                by_position[int(position)]({"id": fact_id})
            return list(self._actions.firings)

    def _assert_all(self, facts: list[dict]) -> None:
        lib, raw, builder, value, encoded = self._lib, self._raw, self._builder, self._value, self._encoded
        if lib.FBSetDeftemplate(builder, TEMPLATE_BYTES) != lib.FBE_NO_ERROR:
            raise RuntimeError("CLIPS lost the fact template")
        for fact in facts:
            names = encoded.get(fact["id"])
            if names is None:
                names = encoded[fact["id"]] = (fact["id"].encode("ascii"), fact["name"].encode("ascii"))
            value.value = lib.CreateString(raw, names[0])
            lib.FBPutSlot(builder, b"id", value)
            value.value = lib.CreateString(raw, names[1])
            lib.FBPutSlot(builder, b"name", value)
            item = fact["value"]
            if item is True or item is False:
                value.value = lib.CreateBoolean(raw, item)
            elif isinstance(item, int):
                value.value = lib.CreateInteger(raw, item)
            else:
                value.value = lib.CreateString(raw, str(item).encode("utf-8"))
            lib.FBPutSlot(builder, b"value", value)
            if lib.FBAssert(builder) == self._ffi.NULL:
                raise RuntimeError(f"CLIPS refused a fact: {fact['id']}")
