"""The dependency graph of the guide, built once at load and checked acyclic.

Nodes `fiche:N` and `fact:X`; edges fact → fiche (the fiche needs it as a
prerequisite), fiche → fact (the fiche brings it about), preparation fiche →
acquisition fiche. Its fiche-to-fiche projection says which fiche can come before
which; the planner, the questioning and `pnman graph` all read it from here.
"""
from __future__ import annotations

from functools import cached_property
from typing import Iterable, Mapping

import networkx as nx

from .conditions import Condition
from .errors import KnowledgeError
from .model import Fiche


class DependencyGraph:
    def __init__(self, fiches: Mapping[int, Fiche], conditions: Mapping[int, tuple[Condition, ...]],
                 provider_preference: Mapping[str, list[int]]):
        self._fiches = fiches
        self._preference = provider_preference
        g = nx.DiGraph()
        for number, fiche in fiches.items():
            g.add_node(f"fiche:{number}", kind="fiche", fiche=number)
            for condition in conditions[number]:
                if condition.kind != "prerequisite":
                    continue
                for fact in condition.facts:
                    g.add_node(f"fact:{fact}", kind="fact", fact=fact)
                    g.add_edge(f"fact:{fact}", f"fiche:{number}", rule=condition.id)
            for fact in fiche.provides:
                g.add_node(f"fact:{fact}", kind="fact", fact=fact)
                g.add_edge(f"fiche:{number}", f"fact:{fact}", rule=f"f{number}.provides.{fact}")
            if fiche.pair and "acquisition" in fiche.pair:
                g.add_edge(f"fiche:{number}", f"fiche:{fiche.pair['acquisition']}", rule=f"f{number}.pair.preparation")
        self.full = g
        self.fiche_order = self._project(g, fiches)
        self._check_acyclic()

    @staticmethod
    def _project(full: nx.DiGraph, fiches: Iterable[int]) -> nx.DiGraph:
        """A → B when A brings about something B needs, or prepares B."""
        g = nx.DiGraph()
        g.add_nodes_from(fiches)
        for source, target, data in full.edges(data=True):
            if source.startswith("fiche:") and target.startswith("fiche:"):
                g.add_edge(int(source[6:]), int(target[6:]), rule=data["rule"])
            elif source.startswith("fiche:") and target.startswith("fact:"):
                for _, needer in full.out_edges(target):
                    if needer != source:
                        g.add_edge(int(source[6:]), int(needer[6:]), rule=f"{data['rule']}→{needer}")
        return g

    def _check_acyclic(self) -> None:
        try:
            cycle = nx.find_cycle(self.fiche_order)
        except nx.NetworkXNoCycle:
            return
        path = " → ".join(f"fiche {a}" for a, _ in cycle) + f" → fiche {cycle[0][0]}"
        raise KnowledgeError(f"the dependency graph has a cycle: {path}")

    @cached_property
    def _providers(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for node, data in self.full.nodes(data=True):
            if data["kind"] != "fact":
                continue
            bringers = sorted(self.full.nodes[p]["fiche"] for p in self.full.predecessors(node))
            preferred = [n for n in self._preference.get(data["fact"], []) if n in bringers]
            found[data["fact"]] = preferred + [n for n in bringers if n not in preferred]
        return found

    def providers(self, fact: str) -> list[int]:
        """Fiches that bring the fact about, in the guide's preference order."""
        return self._providers.get(fact, [])

    def preparation(self, fiche: int) -> int | None:
        pair = self._fiches[fiche].pair
        return pair.get("preparation") if pair else None

    def in_play(self, targets: Iterable[int]) -> set[int]:
        """The targets and every fiche that can come before them (preparations, providers)."""
        found: set[int] = set()
        for target in targets:
            found.add(target)
            found |= nx.ancestors(self.fiche_order, target)
        return found
