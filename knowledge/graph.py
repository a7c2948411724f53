"""The dependency graph of the guide, built once at load and checked acyclic.

Nodes `fiche:N` and `fact:X`; edges fact → fiche (the fiche needs it as a
prerequisite), fiche → fact (the fiche brings it about), preparation fiche →
acquisition fiche. Its fiche-to-fiche projection says which fiche can come before
which; the planner, the questioning and `pnman graph` all read it from here.

The edges are plain mappings, so assessing a company needs no graph library (networkx
costs a third of a cold start); `full` and `fiche_order` give networkx graphs, built on
first use, to draw and to analyse.
"""
from __future__ import annotations

from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from typing import Iterable, Mapping

from .conditions import Condition
from .errors import KnowledgeError
from .model import Fiche


class DependencyGraph:
    def __init__(self, fiches: Mapping[int, Fiche], conditions: Mapping[int, tuple[Condition, ...]],
                 provider_preference: Mapping[str, list[int]]):
        self._fiches = fiches
        # (source, target, rule) for every edge of the full graph, in a stable order.
        edges: list[tuple[str, str, str]] = []
        for number, fiche in fiches.items():
            for condition in conditions[number]:
                if condition.kind == "prerequisite":
                    edges.extend((f"fact:{fact}", f"fiche:{number}", condition.id) for fact in condition.facts)
            edges.extend((f"fiche:{number}", f"fact:{fact}", f"f{number}.provides.{fact}") for fact in fiche.provides)
            if fiche.pair and "acquisition" in fiche.pair:
                edges.append((f"fiche:{number}", f"fiche:{fiche.pair['acquisition']}", f"f{number}.pair.preparation"))
        self.edges = tuple(edges)
        needers: dict[str, list[int]] = {}
        bringers: dict[str, list[int]] = {}
        for source, target, _ in edges:
            if source.startswith("fact:"):
                needers.setdefault(source[5:], []).append(int(target[6:]))
            elif target.startswith("fact:"):
                bringers.setdefault(target[5:], []).append(int(source[6:]))
        # A → B when A brings about something B needs, or prepares B.
        before: dict[int, dict[int, str]] = {n: {} for n in fiches}
        for source, target, rule in edges:
            if source.startswith("fiche:") and target.startswith("fiche:"):
                before[int(target[6:])][int(source[6:])] = rule
            elif source.startswith("fiche:") and target.startswith("fact:"):
                for needer in needers.get(target[5:], []):
                    if needer != int(source[6:]):
                        before[needer].setdefault(int(source[6:]), f"{rule}→fiche:{needer}")
        self._before = before
        self._providers = {fact: self._preferred(sorted(set(found)), provider_preference.get(fact, []))
                           for fact, found in bringers.items()}
        self._check_acyclic()

    @staticmethod
    def _preferred(found: list[int], preference: list[int]) -> list[int]:
        first = [n for n in preference if n in found]
        return first + [n for n in found if n not in first]

    def _check_acyclic(self) -> None:
        try:
            TopologicalSorter({n: set(preds) for n, preds in self._before.items()}).prepare()
        except CycleError as exc:
            cycle = exc.args[1]
            raise KnowledgeError("the dependency graph has a cycle: " + " → ".join(f"fiche {n}" for n in cycle)) from None

    def providers(self, fact: str) -> list[int]:
        """Fiches that bring the fact about, in the guide's preference order."""
        return self._providers.get(fact, [])

    def preparation(self, fiche: int) -> int | None:
        pair = self._fiches[fiche].pair
        return pair.get("preparation") if pair else None

    def in_play(self, targets: Iterable[int]) -> set[int]:
        """The targets and every fiche that can come before them (preparations, providers)."""
        found: set[int] = set()
        todo = list(targets)
        while todo:
            number = todo.pop()
            if number not in found:
                found.add(number)
                todo.extend(self._before[number])
        return found

    # -- as networkx graphs, to draw and analyse -------------------------------------------
    @cached_property
    def full(self):
        import networkx as nx
        g = nx.DiGraph()
        for number in self._fiches:
            g.add_node(f"fiche:{number}", kind="fiche", fiche=number)
        for source, target, rule in self.edges:
            for node in (source, target):
                if node.startswith("fact:"):
                    g.add_node(node, kind="fact", fact=node[5:])
            g.add_edge(source, target, rule=rule)
        return g

    @cached_property
    def fiche_order(self):
        import networkx as nx
        g = nx.DiGraph()
        g.add_nodes_from(self._fiches)
        for target, sources in self._before.items():
            for source, rule in sources.items():
                g.add_edge(source, target, rule=rule)
        return g
