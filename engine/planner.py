"""From goals to an ordered action path.

Walk back from the requested fiches over their unmet prerequisites, reading the
dependency graph built with the knowledge:
- a missing fact that a fiche brings about adds that fiche (the first one, in the
  knowledge's preference order, that the company may use);
- a missing fact no usable fiche brings about becomes a company action;
- an unknown fact becomes a company action to check it (the plan stays provisional);
- a preparation fiche comes before its acquisition unless the company already has what
  the preparation produces (the tool's cahier des charges); a fiche that straddles its
  acquisition (`straddles`) has a part before it and a part after it;
- a preparation that brings nothing its acquisition's prerequisites name (fiche 4 needs no
  cahier des charges GMAO) is optional: planned, marked `optional`, and left out of the
  minimum totals (the maximum includes it); so is whatever only optional steps need;
- a goal whose acquisition fiche is ineligible is still served by its preparation fiche
  (guide.yaml `goals.<g>.preparation`) when that one is open to the company;
- a company action presupposes what its fact implies (the knowledge's implications:
  logiciels de gestion → pratique informatique): it comes after the planned fiche that
  brings that, or that fiche (or action) is planned first;
- a fiche whose eligibility is still unknown is planned `to_confirm`, after the checks of
  the eligibility facts that decide it (which come first of all).
Every node records the rule that put it there; the order is a stable topological sort.
Steps are codes and figures: the words are added at the edge.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import lru_cache
from graphlib import TopologicalSorter
from typing import Any

from pnman.knowledge.loader import Knowledge
from pnman.rules.evaluate import ConditionOutcome, Evaluation

from .budget import step_budget
from .plan_warnings import PlanWarning, contradiction_warning
from .reasons import Reason, Rule
from .steps import PlanStep, StepId, StepKind


@dataclass
class Node:
    key: StepId
    value: Any = None               # what a company action brings its fact to (None: a check)
    eligibility: bool = False       # a check of an eligibility fact: it decides whether fiches stay
    to_confirm: bool = False        # a fiche whose eligibility is still unknown
    after_part: bool = False        # the part of a straddling fiche that follows the acquisition
    because: list[Reason] = field(default_factory=list)
    needed_by: list[int] = field(default_factory=list)
    any_of: tuple[str, ...] = ()    # a check of alternatives (website or e-commerce site): any one is enough

    @property
    def kind(self) -> StepKind:
        return self.key.kind

    @property
    def fiche(self) -> int | None:
        return self.key.fiche

    @property
    def part(self) -> str | None:
        return self.key.part

    @property
    def fact(self) -> str | None:
        return self.key.fact

    @property
    def check_only(self) -> bool:       # the fact is unknown: check it rather than bring it
        return self.key.check

    def sort_key(self) -> tuple:
        if self.kind is StepKind.COMPANY_ACTION:
            return (0, 0 if self.eligibility else 1, self.key.label)
        return (1, self.fiche, 2 if self.after_part else (1 if self.part is None else 0))

    def add_reason(self, reason: Reason) -> None:
        if reason not in self.because:
            self.because.append(reason)


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    totals: dict
    warnings: tuple[PlanWarning, ...]

    def records(self) -> list[dict]:
        """The steps as the record has them."""
        return [step.as_dict() for step in self.steps]


def requested_fiches(profile, kb: Knowledge) -> list[tuple[int, Reason]]:
    """The fiches the profile asks for, with the reason it asks (a goal or a direct request)."""
    out: list[tuple[int, Reason]] = []
    for goal in profile.get("goals") or []:
        out.append((kb.guide.goals[goal].fiche, Reason(Rule.GOAL, goal=goal)))
    for number in profile.get("fiches") or []:
        out.append((number, Reason(Rule.REQUEST, fiche=number)))
    seen, unique = set(), []
    for number, rule in out:
        if number not in seen:
            seen.add(number)
            unique.append((number, rule))
    return unique


def _main_key(number: int, kb: Knowledge) -> StepId:
    straddle = kb.fiche(number).straddles
    return StepId.of_fiche(number, straddle.before if straddle else None)


class _Builder:
    def __init__(self, evaluation: Evaluation, kb: Knowledge):
        self.ev = evaluation
        self.kb = kb
        self.before: dict[StepId, set[StepId]] = {}     # node key -> the keys that must come first
        self.nodes: dict[StepId, Node] = {}
        self.warnings: list[PlanWarning] = []
        self.visiting: set[int] = set()
        self.soft: set[tuple[StepId, StepId]] = set()   # (preparation, acquisition): an edge of order, not of need
        self.targets: list[StepId] = []                 # the main keys of what the company asked for

    # -- nodes -------------------------------------------------------------------------
    def _node(self, node: Node) -> Node:
        existing = self.nodes.get(node.key)
        if existing is None:
            self.nodes[node.key] = node
            self.before[node.key] = set()
            return node
        return existing

    def _edge(self, before: StepId, after: StepId) -> None:
        self.before[after].add(before)

    def order(self) -> list[StepId]:
        """Each step after all it needs; among the steps ready, the smallest sort key first:
        company actions, then fiches by number (a stable, lexicographical topological sort)."""
        sorter = TopologicalSorter(self.before)
        sorter.prepare()      # raises CycleError; the knowledge graph is checked acyclic at load
        ready = [(self.nodes[k].sort_key(), k.label, k) for k in sorter.get_ready()]
        heapq.heapify(ready)
        order = []
        while ready:
            _, _, key = heapq.heappop(ready)
            order.append(key)
            sorter.done(key)
            for following in sorter.get_ready():
                heapq.heappush(ready, (self.nodes[following].sort_key(), following.label, following))
        return order

    def _usable(self, fiche: int) -> bool:
        return self.ev.status(fiche) != "ineligible"

    def _planned_provider(self, fact: str) -> StepId | None:
        for node in self.nodes.values():
            if node.kind is StepKind.FICHE and not node.after_part and fact in self.kb.fiche(node.fiche).provides:
                return node.key
        return None

    def add_fiche(self, number: int, because: Reason) -> StepId:
        """Plan a fiche (and, recursively, what it needs); returns the node key of its main step."""
        key = _main_key(number, self.kb)
        fresh = key not in self.nodes
        node = self._node(Node(key))
        node.add_reason(because)
        if not fresh or number in self.visiting:
            return key
        self.visiting.add(number)
        status = self.ev.statuses[number]
        node.because.append(Reason(Rule.STATUS, ref=status.rule))
        if status.status == "unknown":
            self.warnings.append(PlanWarning("unknown_status", number, {"unknown_facts": list(status.unknown_facts)}))
            self._confirm(number, node)
        self._preparation(number, key)
        for outcome in status.conditions:
            if outcome.outcome != "met" and outcome.condition.kind == "prerequisite":
                self._bring(outcome, number, key)
        self._after_part(number, key)
        self.visiting.discard(number)
        return key

    # -- rules of the plan ---------------------------------------------------------------
    def _confirm(self, number: int, node: Node) -> None:
        """An eligibility condition still unknown (membership, diagnostic, its recommendations…)
        leaves the fiche `to_confirm`; the check of each of its facts is a company action before
        it (an `eligibility_check`, placed first of all), because of that condition."""
        for outcome in self.ev.statuses[number].conditions:
            if outcome.condition.kind != "eligibility" or outcome.outcome != "unknown":
                continue
            node.to_confirm = True
            for test in outcome.tests:
                if test.outcome == "unknown":
                    check = self._action(test.test.fact, None, number, node.key, _condition(outcome))
                    check.eligibility = True

    def _preparation(self, number: int, key: StepId) -> None:
        """plan.preparation: the preparation fiche precedes its acquisition, unless the
        company already has all that the preparation produces for it. A preparation that
        brings nothing the acquisition's prerequisites name is optional
        (plan.preparation.optional): it keeps its place before the acquisition, but the
        acquisition does not need it."""
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
        provides = set(self.kb.fiche(prep).provides)
        called_for = any(provides & set(c.condition.facts) for c in self.ev.statuses[number].conditions
                         if c.condition.kind == "prerequisite")
        rule = Reason(Rule.PREPARATION if called_for else Rule.PREPARATION_OPTIONAL, fiche=number, other=prep)
        prep_key = self.add_fiche(prep, rule)
        self._edge(prep_key, key)
        if not called_for:
            self.soft.add((prep_key, key))

    def _after_part(self, number: int, key: StepId) -> None:
        """plan.straddle.after: a preparation that straddles this acquisition has a part after it."""
        prep = self.kb.graph.preparation(number)
        straddle = self.kb.fiche(prep).straddles if prep is not None else None
        if straddle is None or not self._usable(prep) or _main_key(prep, self.kb) not in self.nodes:
            return
        post = self._node(Node(StepId.of_fiche(prep, straddle.after), after_part=True))
        post.because = [Reason(Rule.AFTER_PART, fiche=number, part=straddle.after),
                        Reason(Rule.STATUS, ref=self.ev.statuses[prep].rule)]
        post.to_confirm = self.nodes[_main_key(prep, self.kb)].to_confirm
        self._edge(key, post.key)

    def _bring(self, outcome: ConditionOutcome, number: int, key: StepId) -> None:
        condition = outcome.condition
        if condition.any_of:
            self._bring_any(outcome, number, key)
            return
        for test in outcome.tests:
            if test.outcome != "met":
                self._bring_fact(test.test.fact, test.outcome == "unknown", number, key, _condition(outcome),
                                 test.test.value)

    def _bring_any(self, outcome: ConditionOutcome, number: int, key: StepId) -> None:
        """plan.choice: one of several facts is enough (website or e-commerce site)."""
        facts = [t.test.fact for t in outcome.tests]
        for fact in facts:
            provider = self._planned_provider(fact)
            if provider:
                self._edge(provider, key)
                self.nodes[provider].add_reason(Reason(Rule.CHOICE_PLANNED, fiche=number, fact=fact))
                return
        unknown = tuple(t.test.fact for t in outcome.tests if t.outcome == "unknown")
        if unknown:     # check them: any one is enough, so the check names every one still unknown
            self._bring_fact(unknown[0], True, number, key, _condition(outcome), alternatives=unknown)
            return
        for fact in facts:
            for provider in self.kb.providers(fact):
                if self._usable(provider) and provider not in self.visiting:
                    pkey = self.add_fiche(provider, Reason(Rule.CHOICE_FIRST_USABLE, fiche=number, fact=fact))
                    self._edge(pkey, key)
                    return
        self._bring_fact(facts[0], False, number, key, _condition(outcome), outcome.tests[0].test.value)

    def _bring_fact(self, fact: str, unknown: bool, number: int, key: StepId, condition: Reason,
                    value: Any = None, alternatives: tuple[str, ...] = ()) -> None:
        provider = self._planned_provider(fact)
        if provider and provider != key:     # already brought by a planned fiche, known or not
            self._edge(provider, key)
            return
        if not unknown:
            for candidate in self.kb.providers(fact):
                if candidate != number and self._usable(candidate) and candidate not in self.visiting:
                    pkey = self.add_fiche(candidate, Reason(Rule.PROVIDER, fiche=number, fact=fact))
                    self._edge(pkey, key)
                    return
        self._action(fact, None if unknown else value, number, key, condition, alternatives)

    def _action(self, fact: str, value: Any, number: int | None, key: StepId, because: Reason,
                alternatives: tuple[str, ...] = ()) -> Node:
        """A company action before `key`: bring the fact to `value`, or check it (value None).
        A check of alternatives names them all; a step that needs the fact itself makes it a
        check of that fact alone."""
        step = StepId.action(fact, check=value is None)
        fresh = step not in self.nodes
        action = self._node(Node(step, value=value))
        if fresh:
            action.any_of = alternatives if len(alternatives) > 1 else ()
        elif action.any_of != alternatives:
            action.any_of = ()
        action.add_reason(because)
        if number is not None and number not in action.needed_by:
            action.needed_by.append(number)
        self._edge(action.key, key)
        return action

    def parts_after(self) -> None:
        """plan.<part>.awaits: a fiche planned in parts whose acquisition is not in the plan (asked
        for directly, or serving a goal whose acquisition is closed to the company) keeps its
        part after the acquisition: it follows the company's own deployment, said by a warning
        with the guide's sentence; its days are counted."""
        for key, node in list(self.nodes.items()):
            straddle = self.kb.fiche(node.fiche).straddles if key.is_fiche else None
            if straddle is None or key != _main_key(node.fiche, self.kb):
                continue
            after = StepId.of_fiche(node.fiche, straddle.after)
            if after in self.nodes:
                continue
            acquisition = _main_key(straddle.acquisition, self.kb)
            post = self._node(Node(after, after_part=True, to_confirm=node.to_confirm))
            status = Reason(Rule.STATUS, ref=self.ev.statuses[node.fiche].rule)
            if acquisition in self.nodes:       # planned, but not by this fiche's own walk
                post.because = [Reason(Rule.AFTER_PART, fiche=straddle.acquisition, part=straddle.after), status]
                self._edge(acquisition, after)
            else:
                post.because = [Reason(Rule.AWAITS_ACQUISITION, fiche=straddle.acquisition, part=straddle.after),
                                status]
                self.warnings.append(PlanWarning("part_awaits_acquisition", node.fiche, {
                    "part": straddle.after, "acquisition": straddle.acquisition, "text": straddle.after_text}))
            self._edge(key, after)

    # -- what a company action presupposes -------------------------------------------------
    def _reaches(self, start: StepId, goal: StepId) -> bool:
        """True when `goal` is `start` or comes before it in the plan."""
        seen, todo = set(), [start]
        while todo:
            key = todo.pop()
            if key == goal:
                return True
            if key not in seen:
                seen.add(key)
                todo.extend(self.before[key])
        return False

    def presuppositions(self) -> None:
        """plan.presupposes: a company action whose fact implies another one (using management
        software implies using IT) comes after the planned fiche that brings that fact; when
        the company does not have it and no fiche is planned for it, its first usable provider
        is planned for it, or else a company action brings it first. Checks presuppose nothing."""
        done: set[StepId] = set()
        while True:
            pending = [n for n in self.nodes.values()
                       if n.kind is StepKind.COMPANY_ACTION and not n.check_only and n.key not in done]
            if not pending:
                return
            for action in sorted(pending, key=lambda n: n.key.label):
                done.add(action.key)
                for fact, value in _implied(self.kb, action.fact, action.value):
                    if self.ev.fact(fact) == value:
                        continue
                    self._presuppose(action, fact, value)

    def _presuppose(self, action: Node, fact: str, value: Any) -> None:
        provider = self._planned_provider(fact) if value is True else None
        if provider is None and self.ev.fact(fact) is not None:     # known not to hold: bring it
            rule = Reason(Rule.PRESUPPOSES_FOR, fact=fact, step=action.key)
            if value is True:
                for candidate in self.kb.providers(fact):
                    if self._usable(candidate) and candidate not in self.visiting:
                        provider = self.add_fiche(candidate, rule)
                        break
            if provider is None:
                existing = self.nodes.get(StepId.action(fact))
                if existing is not None and self._reaches(existing.key, action.key):
                    return      # it already follows this action: an edge back would be a cycle
                brought = self._action(fact, value, None, action.key, rule)
                for number in action.needed_by:
                    if number not in brought.needed_by:
                        brought.needed_by.append(number)
                return
        if provider is None or self._reaches(provider, action.key):
            return      # nothing planned brings it, or the provider needs this action: no cycle
        self._edge(provider, action.key)
        number = self.nodes[provider].fiche
        action.add_reason(Reason(Rule.PRESUPPOSES_AFTER, fact=fact, other=number))
        self.nodes[provider].add_reason(Reason(Rule.PRESUPPOSES_FOR, fact=fact, step=action.key))

    # -- what the plan needs, and what is optional ------------------------------------------
    def required(self) -> set[StepId]:
        """The steps the targets need: every step before a target, except through the edge of
        an optional preparation to its acquisition; a part after the acquisition goes with its
        fiche's main part."""
        found: set[StepId] = set()

        def close(keys) -> None:
            todo = list(keys)
            while todo:
                key = todo.pop()
                if key in found:
                    continue
                found.add(key)
                todo.extend(p for p in self.before[key] if (p, key) not in self.soft)

        close(self.targets)
        for key, node in self.nodes.items():
            if node.after_part and _main_key(node.fiche, self.kb) in found:
                close([key])
        return found

    def mark_optional(self, required: set[StepId]) -> None:
        """plan.optional: why a step that no target needs is in the plan."""
        after: dict[StepId, list[StepId]] = {k: [] for k in self.nodes}
        for key, befores in self.before.items():
            for before in befores:
                after[before].append(key)
        for key, node in self.nodes.items():
            if key in required or any(r.rule is Rule.PREPARATION_OPTIONAL for r in node.because):
                continue
            if node.after_part:
                reasons = [Reason(Rule.OPTIONAL_PART_OF, fiche=node.fiche)]
            else:
                reasons = [Reason(Rule.OPTIONAL_FOR, step=k) for k in sorted(after[key], key=_step_order)
                           if (key, k) not in self.soft]
            for reason in reasons:
                node.add_reason(reason)


@lru_cache(maxsize=256)
def _implied(kb: Knowledge, fact: str, value: Any) -> tuple[tuple[str, Any], ...]:
    """What the knowledge's implications derive from `fact = value`, transitively, in order."""
    found: list[tuple[str, Any]] = []
    todo = [(fact, value)]
    while todo:
        premise = todo.pop(0)
        for rule in kb.implications:
            if rule.premise == premise and rule.conclusion not in found and rule.conclusion[0] != fact:
                found.append(rule.conclusion)
                todo.append(rule.conclusion)
    return tuple(found)


def _condition(outcome: ConditionOutcome) -> Reason:
    return Reason(Rule.CONDITION, ref=outcome.condition.id)


def _step_order(key: StepId) -> tuple:
    """Company actions by name, then fiches by number and part."""
    return (1, key.fiche, key.part or "") if key.is_fiche else (0, 0, key.label)


def _limit_warnings(steps: list[PlanStep], evaluation: Evaluation, kb: Knowledge) -> list[PlanWarning]:
    """A planned fiche's ceiling on a quantity the company wants (fiche 13: 4 or 8 computers)."""
    size = evaluation.size_class
    found = []
    for number in sorted({s.fiche for s in steps if s.id.is_fiche}):
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


def _serve_goal(builder: _Builder, evaluation: Evaluation, kb: Knowledge, number: int, rule: Reason) -> int | None:
    """plan.serves_goal: a goal whose acquisition fiche is ineligible is served by its
    preparation fiche when the company may use it; the acquisition stays a warning."""
    goal = kb.guide.goals.get(rule.goal) if rule.rule is Rule.GOAL else None
    prep = goal.preparation if goal is not None else None
    if prep is None or evaluation.status(prep) == "ineligible":
        return None
    key = builder.add_fiche(prep, rule)
    builder.nodes[key].add_reason(Reason(Rule.SERVES_GOAL, fiche=number, goal=rule.goal))
    builder.warnings.append(PlanWarning("goal_served_by_preparation", number,
                                        {"goal": rule.goal, "preparation": prep}))
    return prep


def build_plan(evaluation: Evaluation, kb: Knowledge) -> Plan:
    builder = _Builder(evaluation, kb)
    for number, rule in requested_fiches(evaluation.profile, kb):
        if evaluation.status(number) == "ineligible":
            failing = evaluation.statuses[number].failing("eligibility")
            builder.warnings.append(PlanWarning("goal_ineligible", number,
                                                {"rule": rule.id, "failing": [c.condition.id for c in failing]}))
            served = _serve_goal(builder, evaluation, kb, number, rule)
            if served is not None:
                builder.targets.append(_main_key(served, kb))
            continue
        builder.targets.append(builder.add_fiche(number, rule))
    builder.parts_after()
    builder.presuppositions()
    required = builder.required()
    builder.mark_optional(required)
    order = builder.order()
    steps = []
    size = evaluation.size_class
    inv_min = inv_max = day_min = day_max = 0
    warnings = list(builder.warnings)
    for index, key in enumerate(order, start=1):
        node = builder.nodes[key]
        optional = key not in required
        after = tuple(sorted({p.fiche for p in builder.before[key] if p.is_fiche}))
        if node.kind is StepKind.COMPANY_ACTION:
            steps.append(PlanStep(index, key, tuple(node.because), after, optional,
                                  needed_by=tuple(sorted(node.needed_by)), eligibility_check=node.eligibility,
                                  any_of=node.any_of))
            continue
        fiche = kb.fiche(node.fiche)
        cost = step_budget(fiche, size, node.part, kb.amendments.get(fiche.fiche, ()))
        if not optional:
            inv_min += cost.investment[0]
            day_min += cost.days[0]
        inv_max += cost.investment[1]
        day_max += cost.days[1]
        warnings.extend(cost.warnings)
        alongside = fiche.alongside.acquisition if fiche.alongside else None
        if alongside is not None and _main_key(alongside, kb) not in builder.nodes:
            alongside = None        # its acquisition is not planned: nothing to run alongside
        steps.append(PlanStep(index, key, tuple(node.because), after, optional, title=fiche.title, type=fiche.type,
                              status=evaluation.status(fiche.fiche), budget=cost.budget, to_confirm=node.to_confirm,
                              runs_alongside=alongside))
    warnings.extend(_limit_warnings(steps, evaluation, kb))
    for contradiction in evaluation.contradictions:
        warnings.append(contradiction_warning(contradiction))
    unique, seen = [], set()
    for w in warnings:
        if w.identity not in seen:
            seen.add(w.identity)
            unique.append(w)
    totals = {"investment_da_ht": {"min": inv_min, "max": inv_max},
              "coaching_days": {"min": day_min, "max": day_max}}
    return Plan(tuple(steps), totals, tuple(unique))
