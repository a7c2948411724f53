"""From goals to an ordered action path.

Walk back from the requested fiches over their unmet prerequisites:
- a missing fact that a fiche brings about adds that fiche (the first one, in the
  knowledge's preference order, that the company may use);
- a missing fact no usable fiche brings about becomes a company action;
- an unknown fact becomes a company action to check it (the plan stays provisional);
- a preparation fiche comes before its acquisition unless the company already has the
  tool's cahier des charges; fiche 9 (ERP) straddles fiche 10: preparation before,
  Post-ERP after.
Every node records the rule that put it there; the order is a stable topological sort.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from .budget import step_budget
from .messages import Warning, warning
from .evaluate import ConditionOutcome, Evaluation
from .knowledge import Knowledge

ERP_COACHING, ERP_ACQUISITION = 9, 10


@dataclass
class Node:
    key: str
    kind: str                       # fiche | company_action
    fiche: int | None = None
    part: str | None = None
    fact: str | None = None
    check_only: bool = False        # the fact is unknown: check it rather than bring it
    because: list[str] = field(default_factory=list)
    needed_by: list[int] = field(default_factory=list)

    def sort_key(self) -> str:
        if self.kind == "company_action":
            return f"0:{self.key}"
        order = {"preparation": 0, None: 1, "post_erp": 2}[self.part]
        return f"1:{self.fiche:02d}:{order}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[dict, ...]
    totals: dict
    warnings: tuple
    graph: nx.DiGraph
    targets: tuple[int, ...]


def requested_fiches(profile, kb: Knowledge) -> list[tuple[int, str]]:
    """The fiches the profile asks for, with the rule id that asks (goal or direct request)."""
    out: list[tuple[int, str]] = []
    for goal in profile.get("goals") or []:
        out.append((kb.guide["goals"][goal]["fiche"], f"goal.{goal}"))
    for number in profile.get("fiches") or []:
        out.append((number, f"request.fiche.{number}"))
    seen, unique = set(), []
    for number, rule in out:
        if number not in seen:
            seen.add(number)
            unique.append((number, rule))
    return unique


class _Builder:
    def __init__(self, evaluation: Evaluation, kb: Knowledge, lang: str):
        self.lang = lang
        self.ev = evaluation
        self.kb = kb
        self.graph = nx.DiGraph()
        self.nodes: dict[str, Node] = {}
        self.warnings: list[Warning] = []
        self.visiting: set[int] = set()

    # -- nodes -------------------------------------------------------------------------
    def _node(self, node: Node) -> Node:
        existing = self.nodes.get(node.key)
        if existing is None:
            self.nodes[node.key] = node
            self.graph.add_node(node.key)
            return node
        return existing

    def _edge(self, before: str, after: str) -> None:
        self.graph.add_edge(before, after)

    def _usable(self, fiche: int) -> bool:
        return self.ev.status(fiche) != "ineligible"

    def _planned_provider(self, fact: str) -> str | None:
        for node in self.nodes.values():
            if node.kind == "fiche" and node.part != "post_erp" and fact in self.kb.fiche(node.fiche).provides:
                return node.key
        return None

    def add_fiche(self, number: int, because: str) -> str:
        """Plan a fiche (and, recursively, what it needs); returns the node key of its main step."""
        part = "preparation" if number == ERP_COACHING else None
        key = f"fiche:{number}" + (":preparation" if part else "")
        fresh = key not in self.nodes
        node = self._node(Node(key, "fiche", fiche=number, part=part))
        if because not in node.because:
            node.because.append(because)
        if not fresh or number in self.visiting:
            return key
        self.visiting.add(number)
        status = self.ev.statuses[number]
        node.because.append(status.rule)
        if status.status == "unknown":
            self.warnings.append(warning(
                "unknown_status", number, self.lang, {"unknown_facts": list(status.unknown_facts)},
                facts=", ".join(status.unknown_facts)))
        self._preparation(number, key)
        for outcome in status.conditions:
            if outcome.outcome != "met" and outcome.condition.kind == "prerequisite":
                self._bring(outcome, number, key)
        if number == ERP_ACQUISITION:
            self._erp_post(key)
        self.visiting.discard(number)
        return key

    # -- rules of the plan ---------------------------------------------------------------
    def _preparation(self, number: int, key: str) -> None:
        """plan.preparation: the preparation fiche precedes its acquisition."""
        fiche = self.kb.fiche(number)
        if not fiche.pair or "preparation" not in fiche.pair:
            return
        prep = fiche.pair["preparation"]
        has_specs = fiche.tool and self.ev.fact(f"specs_{fiche.tool}") is True
        if prep != ERP_COACHING and has_specs:
            return
        if not self._usable(prep):
            self.warnings.append(warning(
                "preparation_ineligible", number, self.lang, {"preparation": prep},
                prep=prep, failing=self._failing_text(prep)))
            return
        prep_key = self.add_fiche(prep, f"plan.preparation.f{prep}.before.f{number}")
        self._edge(prep_key, key)

    def _erp_post(self, key: str) -> None:
        """plan.erp.post: fiche 9's Post-ERP part follows the ERP acquisition."""
        if not self._usable(ERP_COACHING) or f"fiche:{ERP_COACHING}:preparation" not in self.nodes:
            return
        post = self._node(Node(f"fiche:{ERP_COACHING}:post_erp", "fiche", fiche=ERP_COACHING, part="post_erp"))
        post.because = [f"plan.erp.post_erp.after.f{ERP_ACQUISITION}", self.ev.statuses[ERP_COACHING].rule]
        self._edge(key, post.key)

    def _bring(self, outcome: ConditionOutcome, number: int, key: str) -> None:
        condition = outcome.condition
        pending = [t for t in outcome.tests if t.outcome != "met"]
        if condition.any_of:
            self._bring_any(outcome, number, key)
            return
        for test in pending:
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

    def _failing_text(self, fiche: int) -> str:
        failing = self.ev.statuses[fiche].failing("eligibility")
        return "; ".join(c.condition.id for c in failing) or "statut inéligible"


def _label(kb: Knowledge, node: Node, lang: str) -> str:
    spec = kb.facts[node.fact]
    if node.check_only:
        prefix = "Vérifier : " if lang == "fr" else "Check: "
        return prefix + spec["label"][lang]
    return spec.get("action", spec["label"])[lang]


def build_plan(evaluation: Evaluation, kb: Knowledge, lang: str = "fr") -> Plan:
    builder = _Builder(evaluation, kb, lang)
    targets = []
    for number, rule in requested_fiches(evaluation.profile, kb):
        status = evaluation.status(number)
        if status == "ineligible":
            failing = evaluation.statuses[number].failing("eligibility")
            builder.warnings.append(warning(
                "goal_ineligible", number, lang, {"failing": [c.condition.id for c in failing]},
                rule=rule, failing="; ".join(c.condition.id for c in failing)))
            continue
        targets.append(number)
        builder.add_fiche(number, rule)
    graph = builder.graph
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:  # pragma: no cover - the knowledge graph is checked acyclic at load
        raise RuntimeError(f"the plan has a cycle: {cycle}")
    order = list(nx.lexicographical_topological_sort(graph, key=lambda k: builder.nodes[k].sort_key()))
    steps = []
    size = evaluation.size_class
    inv_min = inv_max = day_min = day_max = 0
    warnings = list(builder.warnings)
    for index, key in enumerate(order, start=1):
        node = builder.nodes[key]
        if node.kind == "company_action":
            steps.append({"step": index, "kind": "company_action", "id": node.key, "fact": node.fact,
                          "label": _label(kb, node, lang), "needed_by": sorted(node.needed_by),
                          "check_only": node.check_only, "because": list(node.because)})
            continue
        fiche = kb.fiche(node.fiche)
        cost = step_budget(fiche, size, node.part, lang)
        inv_min += cost.investment[0]
        inv_max += cost.investment[1]
        day_min += cost.days[0]
        day_max += cost.days[1]
        warnings.extend(cost.warnings)
        step = {"step": index, "kind": "fiche", "fiche": fiche.fiche, "title": fiche.title, "type": fiche.type,
                "status": evaluation.status(fiche.fiche), "budget": cost.budget, "because": list(node.because),
                "after": sorted({builder.nodes[p].fiche or 0 for p in graph.predecessors(key)
                                 if builder.nodes[p].kind == "fiche"})}
        if node.part:
            step["part"] = node.part
        steps.append(step)
    # Fiche 13 covers at most 4 or 8 workstations depending on size.
    limit = kb.fiche(13).budget.workstation_limit
    wanted = evaluation.profile.get("workstations_needed")
    if limit and size and wanted is not None and any(s["kind"] == "fiche" and s["fiche"] == 13 for s in steps):
        cap = getattr(limit, size)
        if wanted > cap:
            warnings.append(warning(
                "workstation_limit", 13, lang, {"workstations_needed": wanted, "limit": cap},
                wanted=wanted, cap=cap, size=size, text=limit.text))
    for contradiction in evaluation.contradictions:
        warnings.append(warning("contradictory_facts", None, lang, contradiction, **contradiction))
    unique, seen = [], set()
    for w in warnings:
        ident = (w.code, w.fiche, w.message)
        if ident not in seen:
            seen.add(ident)
            unique.append(w)
    totals = {"investment_da_ht": {"min": inv_min, "max": inv_max},
              "coaching_days": {"min": day_min, "max": day_max}}
    return Plan(tuple(steps), totals, tuple(unique), graph, tuple(targets))
