"""What an outcome reads of an evaluation, so that the questioning's « what if » trials can
reuse an outcome instead of planning again.

An outcome's signature (engine/questioning.py: the plan, its totals, the statuses in play)
is a function of the few things the planner and the signature read of the evaluation: the
request and a few figures of the profile, the size class, the statuses of the fiches the
plan visits, a few facts. Which ones are read depends only on the values read before (the
planner is deterministic), so the signatures seen are kept as a decision tree: each node is
one read, each branch one value it gave, each leaf a signature. Another evaluation walks the
tree doing the same reads; when it reaches a leaf its signature is that leaf's, exactly.

What is read of a fiche's status is noted piece by piece (its status, its rule, what its
conditions that are not met say): an ineligible fiche the plan only tests for use, or a
fiche whose answered condition is met either way, reads alike.

And before any trial: `cannot_change` tells from the knowledge alone (which facts an answer
reaches through the implications, which fiches cite them) that no answer to a question can
change what the current outcome read, so that question needs no « what if » at all.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from pnman.knowledge.loader import Knowledge
from pnman.rules.compile import fact_name
from pnman.rules.evaluate import Evaluation, FicheStatus

Read = tuple    # ("profile", key) | ("size",) | ("fact", name) | ("status", fiche, "status" | "rule" | …)


class Reading:
    """An evaluation as the planner sees it (engine/planner.build_plan takes it in place of
    the evaluation), noting each read and the value it gave, in order."""

    def __init__(self, evaluation: Evaluation):
        self._evaluation = evaluation
        self.reads: list[tuple[Read, Any]] = []
        self.profile = _Profile(evaluation.profile, self.reads)
        self.statuses = _Statuses(evaluation.statuses, self.reads)

    @property
    def size_class(self) -> str | None:
        value = self._evaluation.size_class
        self.reads.append((("size",), value))
        return value

    @property
    def contradictions(self):
        """Not noted: they only make warnings, which no signature contains."""
        return self._evaluation.contradictions

    def status(self, fiche: int) -> str:
        return self.statuses[fiche].status

    def fact(self, name: str) -> Any:
        value = self._evaluation.fact(name)
        self.reads.append((("fact", name), value))
        return value


class _Profile:
    def __init__(self, profile: Mapping[str, Any], reads: list):
        self._profile, self._reads = profile, reads

    def get(self, key: str) -> Any:
        value = self._profile.get(key)
        self._reads.append((("profile", key), value))
        return value


class _Statuses:
    def __init__(self, statuses: Mapping[int, FicheStatus], reads: list):
        self._statuses, self._reads = statuses, reads

    def __getitem__(self, fiche: int) -> _StatusReading:
        return _StatusReading(fiche, self._statuses[fiche], self._reads)


class _StatusReading:
    """A fiche's status, noting what is read of it: an ineligible fiche the planner only
    tests for use reads as any other ineligible one."""
    __slots__ = ("fiche", "_status", "_reads")

    def __init__(self, fiche: int, status: FicheStatus, reads: list):
        self.fiche, self._status, self._reads = fiche, status, reads

    def _noted(self, what: str, value: Any) -> Any:
        self._reads.append((("status", self.fiche, what), value))
        return value

    @property
    def status(self) -> str:
        return self._noted("status", self._status.status)

    @property
    def rule(self) -> str:
        return self._noted("rule", self._status.rule)

    @property
    def unknown_facts(self) -> tuple[str, ...]:
        return self._noted("unknown_facts", self._status.unknown_facts)

    @property
    def conditions(self):
        self._noted("conditions", self._status)
        return self._status.conditions

    def failing(self, kind: str | None = None):
        """Not noted, as contradictions: the failing conditions are only named by warnings."""
        return self._status.failing(kind)


def _read(evaluation: Evaluation, read: Read) -> Any:
    kind = read[0]
    if kind == "status":
        status, what = evaluation.statuses[read[1]], read[2]
        return status if what == "conditions" else getattr(status, what)
    if kind == "fact":
        return evaluation.fact(read[1])
    if kind == "profile":
        return evaluation.profile.get(read[1])
    return evaluation.size_class


def _branch(read: Read, value: Any) -> Any:
    """The hashable key of a value read: a value by type and value (True is not 1), a list
    as a tuple; of a status's conditions, what the planner reads of them (`conditions_view`)."""
    if read[0] == "status" and read[2] == "conditions":
        return conditions_view(value)
    if isinstance(value, list):
        return (list, tuple(value))
    return (value.__class__, value)


_VIEWS: dict[int, tuple[FicheStatus, tuple]] = {}
VIEWS_KEPT = 20_000


def conditions_view(status: FicheStatus) -> tuple:
    """What the planner reads of a status's conditions: each one not met, with its outcome
    and its tests' outcomes (it brings, checks or reports those; of a met condition it
    reads only that it is met, and the conditions of a fiche are the knowledge's, always in
    the same order). Kept per status object: statuses are shared between evaluations
    (rules/evaluate._Shared)."""
    found = _VIEWS.get(id(status))
    if found is not None and found[0] is status:
        return found[1]
    view = tuple((c.condition.id, c.outcome, tuple(t.outcome for t in c.tests))
                 for c in status.conditions if c.outcome != "met")
    if len(_VIEWS) >= VIEWS_KEPT:
        _VIEWS.clear()
    _VIEWS[id(status)] = (status, view)
    return view


class _Node:
    __slots__ = ("read", "branches", "leaf")

    def __init__(self):
        self.read: Read | None = None
        self.branches: dict[Any, _Node] = {}
        self.leaf: str | None = None


class SignatureTree:
    """The signatures seen, by what was read to make them; bounded (emptied past `limit` nodes)."""

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self.nodes = 0
        self._root = _Node()
        self._lock = threading.Lock()

    def find(self, evaluation: Evaluation) -> str | None:
        """The signature of `evaluation`'s outcome, when one read the same has been seen."""
        with self._lock:
            node = self._root
            while node.leaf is None:
                if node.read is None:
                    return None
                node = node.branches.get(_branch(node.read, _read(evaluation, node.read)))
                if node is None:
                    return None
            return node.leaf

    def add(self, reads: list[tuple[Read, Any]], signature: str) -> None:
        """Keep a signature under the reads that made it."""
        with self._lock:
            if self.nodes + len(reads) + 1 > self.limit:
                self._root, self.nodes = _Node(), 0
            node = self._root
            for read, value in reads:
                if node.leaf is not None or (node.read is not None and node.read != read):
                    return      # pragma: no cover - the same reads always lead the same way
                node.read = read
                branch = _branch(read, value)
                found = node.branches.get(branch)
                if found is None:
                    found = node.branches[branch] = _Node()
                    self.nodes += 1
                node = found
            if node.read is None:
                node.leaf = signature


def signed(evaluation: Evaluation, sign: Callable[[Reading], str], tree: SignatureTree) -> str:
    """`sign(reading)` of the evaluation, from the tree when the same reads were seen."""
    found = tree.find(evaluation)
    if found is not None:
        return found
    reading = Reading(evaluation)
    signature = sign(reading)
    tree.add(reading.reads, signature)
    return signature


@dataclass(frozen=True)
class Reach:
    """What a change of one answer can reach: the facts (the answer's own and what the
    knowledge's implications derive from it, transitively, whatever the values), the
    fiches whose conditions cite them, and the other reads it can change (those facts and
    their tests' names, its own profile entry, the size class for the headcount)."""
    facts: frozenset[str]
    fiches: frozenset[int]
    reads: frozenset[Read]


@lru_cache(maxsize=4)
def reaches(kb: Knowledge) -> dict[str, Reach]:
    """Each fact's Reach, made once per knowledge."""
    follows: dict[str, set[str]] = {}
    for rule in kb.implications:
        follows.setdefault(rule.premise[0], set()).add(rule.conclusion[0])
    tested: dict[str, set[str]] = {}
    for test in kb.tests():
        tested.setdefault(test.fact, set()).add(fact_name(test))
    citing: dict[str, set[int]] = {}
    for number, conditions in kb.conditions.items():
        for condition in conditions:
            for fact in condition.facts:
                citing.setdefault(fact, set()).add(number)
    sized = {test.fact for test in kb.tests() if test.op == "size"}      # the size class is read from it
    found = {}
    for key in kb.facts:
        reached, todo = set(), [key]
        while todo:
            fact = todo.pop()
            if fact not in reached:
                reached.add(fact)
                todo.extend(follows.get(fact, ()))
        reads: set[Read] = {("profile", key)} | ({("size",)} if key in sized else set())
        fiches: set[int] = set()
        for fact in reached:
            reads.add(("fact", fact))
            reads.update(("fact", name) for name in tested.get(fact, ()))
            fiches.update(citing.get(fact, ()))
        found[key] = Reach(frozenset(reached), frozenset(fiches), frozenset(reads))
    return found


def cannot_change(key: str, reads: Iterable[Read], evaluation: Evaluation, kb: Knowledge) -> bool:
    """True when no answer to `key` can change any of `reads` of `evaluation` (so no « what
    if » of it can change an outcome made from those reads). A fiche whose conditions cite
    what the answer reaches keeps its ineligibility when a condition that excludes it cites
    none of it."""
    reach = reaches(kb)[key]
    for read in reads:
        if read[0] != "status":
            if read in reach.reads:
                return False
        elif read[1] in reach.fiches and not _kept(evaluation.statuses[read[1]], read[2], reach.facts):
            return False
    return True


def _kept(status: FicheStatus, what: str, reached: frozenset[str]) -> bool:
    """Whether `what` is read of the status alike whatever the facts `reached` become."""
    if what == "status" or what == "rule":
        return status.status == "ineligible" and any(reached.isdisjoint(c.condition.facts) for c in status.excluded_by)
    return False
