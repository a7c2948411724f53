"""The dependency graph of the guide, built once at load and checked acyclic.

Nodes are fiches and facts (`Node`, drawn `fiche:N` and `fact:X`); edges fact → fiche (the fiche needs it as a
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
from typing import Iterable, Mapping, NamedTuple

from .conditions import Condition
from .errors import KnowledgeError
from .model import Fiche


class Node(NamedTuple):
    """A node of the graph: a fiche (its number) or a fact (its name); `id` spells it for a
    drawing (`fiche:16`, `fact:local_network`), never read back."""
    kind: str               # "fiche" | "fact"
    name: int | str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


def fiche_node(number: int) -> Node:
    return Node("fiche", number)


def fact_node(fact: str) -> Node:
    return Node("fact", fact)


class DependencyGraph:
    def __init__(self, fiches: Mapping[int, Fiche], conditions: Mapping[int, tuple[Condition, ...]],
                 provider_preference: Mapping[str, list[int]]):
        self._fiches = fiches
        # (source, target, rule) for every edge of the full graph, in a stable order.
        edges: list[tuple[Node, Node, str]] = []
        for number, fiche in fiches.items():
            for condition in conditions[number]:
                if condition.kind == "prerequisite":
                    edges.extend((fact_node(fact), fiche_node(number), condition.id) for fact in condition.facts)
            edges.extend((fiche_node(number), fact_node(fact), f"f{number}.provides.{fact}") for fact in fiche.provides)
            if fiche.pair and "acquisition" in fiche.pair:
                edges.append((fiche_node(number), fiche_node(fiche.pair["acquisition"]), f"f{number}.pair.preparation"))
        self.edges = tuple(edges)
        needers: dict[str, list[int]] = {}
        bringers: dict[str, list[int]] = {}
        for source, target, _ in edges:
            if source.kind == "fact":
                needers.setdefault(source.name, []).append(target.name)
            elif target.kind == "fact":
                bringers.setdefault(target.name, []).append(source.name)
        # A → B when A brings about something B needs, or prepares B.
        before: dict[int, dict[int, str]] = {n: {} for n in fiches}
        for source, target, rule in edges:
            if source.kind == "fiche" and target.kind == "fiche":
                before[target.name][source.name] = rule
            elif source.kind == "fiche" and target.kind == "fact":
                for needer in needers.get(target.name, []):
                    if needer != source.name:
                        before[needer].setdefault(source.name, f"{rule}→{fiche_node(needer).id}")
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
            g.add_node(fiche_node(number).id, kind="fiche", fiche=number)
        for source, target, rule in self.edges:
            for node in (source, target):
                if node.kind == "fact":
                    g.add_node(node.id, kind="fact", fact=node.name)
            g.add_edge(source.id, target.id, rule=rule)
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
