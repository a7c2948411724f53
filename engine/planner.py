"""From goals to an ordered action path.

Walk back from the requested fiches over their unmet prerequisites, reading the
dependency graph built with the knowledge:
- a missing fact that a fiche brings about adds that fiche (the first one, in the
  knowledge's preference order, that the company may use);
- a missing fact no usable fiche brings about becomes a company action;
- an unknown fact becomes a company action to check it (the plan stays provisional);
- a preparation fiche comes before its acquisition unless the company already has what
  the preparation produces (the tool's cahier des charges); a fiche that straddles its
  acquisition (`straddles`) has a part before it and a part after it.
Every node records the rule that put it there; the order is a stable topological sort.
Steps are codes and figures: the words are added at the edge.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from knowledge.loader import Knowledge
from rules.evaluate import ConditionOutcome, Evaluation

from .budget import step_budget
from .plan_warnings import PlanWarning


@dataclass
class Node:
    key: str
    kind: str                       # fiche | company_action
    fiche: int | None = None
    part: str | None = None
    fact: str | None = None
    check_only: bool = False        # the fact is unknown: check it rather than bring it
    after_part: bool = False        # the part of a straddling fiche that follows the acquisition
    because: list[str] = field(default_factory=list)
    needed_by: list[int] = field(default_factory=list)

    def sort_key(self) -> str:
        if self.kind == "company_action":
            return f"0:{self.key}"
        order = 2 if self.after_part else (1 if self.part is None else 0)
        return f"1:{self.fiche:04d}:{order}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[dict, ...]
    totals: dict
    warnings: tuple[PlanWarning, ...]
    targets: tuple[int, ...]


def requested_fiches(profile, kb: Knowledge) -> list[tuple[int, str]]:
    """The fiches the profile asks for, with the rule id that asks (goal or direct request)."""
    out: list[tuple[int, str]] = []
    for goal in profile.get("goals") or []:
        out.append((kb.guide.goals[goal].fiche, f"goal.{goal}"))
    for number in profile.get("fiches") or []:
        out.append((number, f"request.fiche.{number}"))
    seen, unique = set(), []
    for number, rule in out:
        if number not in seen:
            seen.add(number)
            unique.append((number, rule))
    return unique


def _main_key(number: int, kb: Knowledge) -> str:
    straddle = kb.fiche(number).straddles
    return f"fiche:{number}" + (f":{straddle.before}" if straddle else "")


class _Builder:
    def __init__(self, evaluation: Evaluation, kb: Knowledge):
        self.ev = evaluation
        self.kb = kb
        self.before: dict[str, set[str]] = {}     # node key -> the keys that must come first
        self.nodes: dict[str, Node] = {}
        self.warnings: list[PlanWarning] = []
        self.visiting: set[int] = set()

    # -- nodes -------------------------------------------------------------------------
    def _node(self, node: Node) -> Node:
        existing = self.nodes.get(node.key)
        if existing is None:
            self.nodes[node.key] = node
            self.before[node.key] = set()
            return node
        return existing

    def _edge(self, before: str, after: str) -> None:
        self.before[after].add(before)

    def order(self) -> list[str]:
        """Each step after all it needs; among the steps ready, the smallest sort key first:
        company actions, then fiches by number (a stable, lexicographical topological sort)."""
        sorter = TopologicalSorter(self.before)
        sorter.prepare()      # raises CycleError; the knowledge graph is checked acyclic at load
        ready = [(self.nodes[k].sort_key(), k) for k in sorter.get_ready()]
        heapq.heapify(ready)
        order = []
        while ready:
            _, key = heapq.heappop(ready)
            order.append(key)
            sorter.done(key)
            for following in sorter.get_ready():
                heapq.heappush(ready, (self.nodes[following].sort_key(), following))
        return order

    def _usable(self, fiche: int) -> bool:
        return self.ev.status(fiche) != "ineligible"

    def _planned_provider(self, fact: str) -> str | None:
        for node in self.nodes.values():
            if node.kind == "fiche" and not node.after_part and fact in self.kb.fiche(node.fiche).provides:
                return node.key
        return None

    def add_fiche(self, number: int, because: str) -> str:
        """Plan a fiche (and, recursively, what it needs); returns the node key of its main step."""
        straddle = self.kb.fiche(number).straddles
        key = _main_key(number, self.kb)
        fresh = key not in self.nodes
        node = self._node(Node(key, "fiche", fiche=number, part=straddle.before if straddle else None))
        if because not in node.because:
            node.because.append(because)
        if not fresh or number in self.visiting:
            return key
        self.visiting.add(number)
        status = self.ev.statuses[number]
        node.because.append(status.rule)
        if status.status == "unknown":
            self.warnings.append(PlanWarning("unknown_status", number, {"unknown_facts": list(status.unknown_facts)}))
        self._preparation(number, key)
        for outcome in status.conditions:
            if outcome.outcome != "met" and outcome.condition.kind == "prerequisite":
                self._bring(outcome, number, key)
        self._after_part(number, key)
        self.visiting.discard(number)
        return key

    # -- rules of the plan ---------------------------------------------------------------
    def _preparation(self, number: int, key: str) -> None:
        """plan.preparation: the preparation fiche precedes its acquisition, unless the
        company already has all that the preparation produces for it."""
        prep = self.kb.graph.preparation(number)
        if prep is None:
            return
        specs = self.kb.fiche(number).specs
        produces = specs in self.kb.fiche(prep).provides if specs else False
        if produces and self.ev.fact(specs) is True:
            return
        if not self._usable(prep):
            failing = [c.condition.id for c in self.ev.statuses[prep].failing("eligibility")]
            self.warnings.append(PlanWarning("preparation_ineligible", number,
                                             {"preparation": prep, "failing": failing}))
            return
        prep_key = self.add_fiche(prep, f"plan.preparation.f{prep}.before.f{number}")
        self._edge(prep_key, key)

    def _after_part(self, number: int, key: str) -> None:
        """plan.straddle.after: a preparation that straddles this acquisition has a part after it."""
        prep = self.kb.graph.preparation(number)
        straddle = self.kb.fiche(prep).straddles if prep is not None else None
        if straddle is None or not self._usable(prep) or _main_key(prep, self.kb) not in self.nodes:
            return
        post = self._node(Node(f"fiche:{prep}:{straddle.after}", "fiche", fiche=prep, part=straddle.after,
                               after_part=True))
        post.because = [f"plan.{straddle.after}.after.f{number}", self.ev.statuses[prep].rule]
        self._edge(key, post.key)

    def _bring(self, outcome: ConditionOutcome, number: int, key: str) -> None:
        condition = outcome.condition
        if condition.any_of:
            self._bring_any(outcome, number, key)
            return
        for test in outcome.tests:
            if test.outcome != "met":
                self._bring_fact(test.test.fact, test.outcome == "unknown", number, key, condition.id)

    def _bring_any(self, outcome: ConditionOutcome, number: int, key: str) -> None:
        """plan.choice: one of several facts is enough (website or e-commerce site)."""
        facts = [t.test.fact for t in outcome.tests]
        for fact in facts:
            provider = self._planned_provider(fact)
            if provider:
                self._edge(provider, key)
                reason = f"plan.choice.{fact}.already_planned.for.f{number}"
                if reason not in self.nodes[provider].because:
                    self.nodes[provider].because.append(reason)
                return
        if any(t.outcome == "unknown" for t in outcome.tests):
            unknown = [t.test.fact for t in outcome.tests if t.outcome == "unknown"][0]
            self._bring_fact(unknown, True, number, key, outcome.condition.id)
            return
        for fact in facts:
            for provider in self.kb.providers(fact):
                if self._usable(provider) and provider not in self.visiting:
                    pkey = self.add_fiche(provider, f"plan.choice.{fact}.first_usable.for.f{number}")
                    self._edge(pkey, key)
                    return
        self._bring_fact(facts[0], False, number, key, outcome.condition.id)

    def _bring_fact(self, fact: str, unknown: bool, number: int, key: str, condition_id: str) -> None:
        provider = self._planned_provider(fact)
        if provider and provider != key:     # already brought by a planned fiche, known or not
            self._edge(provider, key)
            return
        if not unknown:
            for candidate in self.kb.providers(fact):
                if candidate != number and self._usable(candidate) and candidate not in self.visiting:
                    pkey = self.add_fiche(candidate, f"plan.provider.{fact}.for.f{number}")
                    self._edge(pkey, key)
                    return
        prefix = "check" if unknown else "action"
        action = self._node(Node(f"{prefix}.{fact}", "company_action", fact=fact, check_only=unknown))
        if condition_id not in action.because:
            action.because.append(condition_id)
        if number not in action.needed_by:
            action.needed_by.append(number)
        self._edge(action.key, key)


def _limit_warnings(steps: list[dict], evaluation: Evaluation, kb: Knowledge) -> list[PlanWarning]:
    """A planned fiche's ceiling on a quantity the company wants (fiche 13: 4 or 8 computers)."""
    size = evaluation.size_class
    found = []
    for number in sorted({s["fiche"] for s in steps if s["kind"] == "fiche"}):
        limit = kb.fiche(number).budget.workstation_limit
        wanted = evaluation.profile.get(limit.fact) if limit else None
        if limit is None or size is None or wanted is None:
            continue
        cap = getattr(limit, size)
        if wanted > cap:
            found.append(PlanWarning("workstation_limit", number, {
                "fact": limit.fact, "workstations_needed": wanted, "limit": cap, "size_class": size,
                "text": limit.text}))
    return found


def build_plan(evaluation: Evaluation, kb: Knowledge) -> Plan:
    builder = _Builder(evaluation, kb)
    targets = []
    for number, rule in requested_fiches(evaluation.profile, kb):
        if evaluation.status(number) == "ineligible":
            failing = evaluation.statuses[number].failing("eligibility")
            builder.warnings.append(PlanWarning("goal_ineligible", number,
                                                {"rule": rule, "failing": [c.condition.id for c in failing]}))
            continue
        targets.append(number)
        builder.add_fiche(number, rule)
    order = builder.order()
    steps = []
    size = evaluation.size_class
    inv_min = inv_max = day_min = day_max = 0
    warnings = list(builder.warnings)
    for index, key in enumerate(order, start=1):
        node = builder.nodes[key]
        if node.kind == "company_action":
            steps.append({"step": index, "kind": "company_action", "id": node.key, "fact": node.fact,
                          "needed_by": sorted(node.needed_by), "check_only": node.check_only,
                          "because": list(node.because)})
            continue
        fiche = kb.fiche(node.fiche)
        cost = step_budget(fiche, size, node.part)
        inv_min += cost.investment[0]
        inv_max += cost.investment[1]
        day_min += cost.days[0]
        day_max += cost.days[1]
        warnings.extend(cost.warnings)
        step = {"step": index, "kind": "fiche", "fiche": fiche.fiche, "title": fiche.title, "type": fiche.type,
                "status": evaluation.status(fiche.fiche), "budget": cost.budget, "because": list(node.because),
                "after": sorted({builder.nodes[p].fiche or 0 for p in builder.before[key]
                                 if builder.nodes[p].kind == "fiche"})}
        if node.part:
            step["part"] = node.part
        steps.append(step)
    warnings.extend(_limit_warnings(steps, evaluation, kb))
    for contradiction in evaluation.contradictions:
        warnings.append(PlanWarning("contradictory_facts", None, dict(contradiction)))
    unique, seen = [], set()
    for w in warnings:
        if w.identity not in seen:
            seen.add(w.identity)
            unique.append(w)
    totals = {"investment_da_ht": {"min": inv_min, "max": inv_max},
              "coaching_days": {"min": day_min, "max": day_max}}
    return Plan(tuple(steps), totals, tuple(unique), tuple(targets))
