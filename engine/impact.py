"""What a change of guide edition does: for one company, then for a portfolio (contract §9).

`pnman impact PORTFOLIO --from A --to B` assesses every company under both editions and
keeps, for each, what changes: the status of a fiche, the steps of its plan (added,
removed, reordered, and the figures of each step's budget), the totals and the warnings.
The summary counts the companies affected and adds up the investment ceilings and the
coaching days of every plan, before and after. Codes and figures only: the faces word them.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping

from pnman.knowledge.loader import Knowledge
from pnman.rules.evaluate import evaluate

from .facade import Assessment
from .planner import build_plan
from .steps import StepId


def assess_pair(profile: Mapping[str, Any], before: Knowledge, after: Knowledge) -> tuple[Assessment, Assessment]:
    """The assessment of a checked profile under two editions. Editions change figures, never
    conditions: when both share the base's conditions the profile is evaluated once."""
    evaluation = evaluate(profile, before)
    other = evaluation if after.conditions is before.conditions else evaluate(profile, after)
    return (Assessment(before, evaluation, build_plan(evaluation, before)),
            Assessment(after, other, build_plan(other, after)))


@dataclass(frozen=True)
class StepFigure:
    """A figure of a step's budget: its path in the budget (`lines[2].amount_da_ht`), its
    name, its value, and the category of its line or the label of its option."""
    path: str
    name: str
    value: int | float
    label: str | None = None


def budget_figures(budget: Mapping[str, Any], prefix: str = "", label: str | None = None) -> dict[str, StepFigure]:
    """The figures of a step's budget, by path (`total_da_ht`, `lines[2].amount_da_ht`, `days`…);
    what the edition changed and why (`amended`) is not a figure."""
    found: dict[str, StepFigure] = {}
    items = budget.items() if isinstance(budget, Mapping) else enumerate(budget)
    for key, value in items:
        if key == "amended" or isinstance(value, bool):
            continue
        path = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
        if isinstance(value, (int, float)):
            found[path] = StepFigure(path, str(key), value, label)
        elif isinstance(value, Mapping):
            found.update(budget_figures(value, path, value.get("category") or value.get("label") or label))
        elif isinstance(value, list):
            found.update(budget_figures(value, path, label))
    return found


def _changed(path: str, before: StepFigure | None, after: StepFigure | None) -> dict:
    either = after or before
    figure = {"figure": path, "name": either.name, "from": before.value if before else None,
              "to": after.value if after else None}
    if either.label:                        # a line's or an option's figure
        figure["label"] = either.label
    return figure


def _value(figure: StepFigure | None) -> int | float | None:
    return figure.value if figure is not None else None


def _named(key: StepId) -> dict:
    """A step added or removed, by its fields: what the report names it by."""
    if key.is_fiche:
        return {"kind": key.kind.value, "fiche": key.fiche, "part": key.part}
    return {"kind": key.kind.value, "fact": key.fact, "check_only": key.check}


def company_impact(before: Assessment, after: Assessment) -> dict:
    """What changes for one company from one edition to the other; `changed` says if anything does."""
    statuses = [{"fiche": n, "from": s.status, "to": after.evaluation.statuses[n].status}
                for n, s in before.evaluation.statuses.items()
                if n in after.evaluation.statuses and s.status != after.evaluation.statuses[n].status]
    steps_before = {s.id: s for s in before.plan.steps}
    steps_after = {s.id: s for s in after.plan.steps}
    added = [k for k in steps_after if k not in steps_before]
    removed = [k for k in steps_before if k not in steps_after]
    kept_before = [k for k in steps_before if k in steps_after]
    kept_after = [k for k in steps_after if k in steps_before]
    budgets = []
    for key in kept_after:
        old, new = steps_before[key], steps_after[key]
        if not key.is_fiche:
            continue
        figures_before, figures_after = budget_figures(old.budget), budget_figures(new.budget)
        figures = [_changed(f, figures_before.get(f), figures_after.get(f))
                   for f in sorted(set(figures_before) | set(figures_after))
                   if _value(figures_before.get(f)) != _value(figures_after.get(f))]
        if figures:
            references = list(dict.fromkeys(a["reference"] for a in new.budget.get("amended", ())))
            budgets.append({"step": key.label, "fiche": key.fiche, "part": key.part, "figures": figures,
                            "references": references})
    warnings_before = {w.code for w in before.plan.warnings}
    warnings_after = {w.code for w in after.plan.warnings}
    totals = {"from": before.plan.totals, "to": after.plan.totals}
    plan = {"added": [k.label for k in added], "removed": [k.label for k in removed],
            "order_changed": kept_before != kept_after, "budgets": budgets,
            "steps": {k.label: _named(k) for k in added + removed}}
    warnings = {"added": sorted(warnings_after - warnings_before), "removed": sorted(warnings_before - warnings_after)}
    changed = bool(statuses or added or removed or plan["order_changed"] or budgets
                   or totals["from"] != totals["to"] or warnings["added"] or warnings["removed"])
    return {"changed": changed, "statuses": statuses, "plan": plan, "totals": totals, "warnings": warnings}


def impact_line(number: int, before: Assessment, after: Assessment) -> dict:
    """One company's output line: who, whether anything changes, what, and the totals before and after."""
    impact = company_impact(before, after)
    line = {"row": number, "name": before.profile.get("name"), "size_class": before.evaluation.size_class,
            "changed": impact["changed"], "totals": impact["totals"]}
    if impact["changed"]:
        for key in ("statuses", "plan", "warnings"):
            line[key] = impact[key]
    return line


class ImpactSummary:
    """The portfolio's sums: companies affected, totals before and after, per-fiche counts."""

    def __init__(self):
        self.rows = 0
        self.errors = 0
        self.affected = 0
        self.status_changes = 0
        self.plan_changes = 0
        self.totals = {"from": [0, 0, 0, 0], "to": [0, 0, 0, 0]}   # investment min, max; days min, max
        self.fiches: Counter = Counter()        # fiche -> companies whose step budget changed

    def add(self, line: Mapping[str, Any] | None) -> None:
        """One output line, or None for a row that could not be assessed."""
        self.rows += 1
        if line is None:
            self.errors += 1
            return
        for side in ("from", "to"):
            totals = line["totals"][side]
            inv, days = totals["investment_da_ht"], totals["coaching_days"]
            for index, value in enumerate((inv["min"], inv["max"], days["min"], days["max"])):
                self.totals[side][index] += value
        if not line["changed"]:
            return
        self.affected += 1
        self.status_changes += bool(line["statuses"])
        plan = line["plan"]
        self.plan_changes += bool(plan["added"] or plan["removed"] or plan["order_changed"])
        self.fiches.update({b["fiche"] for b in plan["budgets"]})

    def merge(self, other: ImpactSummary) -> None:
        self.rows += other.rows
        self.errors += other.errors
        self.affected += other.affected
        self.status_changes += other.status_changes
        self.plan_changes += other.plan_changes
        for side in ("from", "to"):
            self.totals[side] = [a + b for a, b in zip(self.totals[side], other.totals[side])]
        self.fiches.update(other.fiches)

    def as_dict(self) -> dict:
        def side(values):
            return {"investment_da_ht": {"min": values[0], "max": values[1]},
                    "coaching_days": {"min": values[2], "max": values[3]}}
        before, after = self.totals["from"], self.totals["to"]
        return {"rows": self.rows, "assessed": self.rows - self.errors, "errors": self.errors,
                "affected": self.affected, "unchanged": self.rows - self.errors - self.affected,
                "status_changes": self.status_changes, "plan_changes": self.plan_changes,
                "budget_changes_per_fiche": {str(n): c for n, c in sorted(self.fiches.items())},
                "totals": {"from": side(before), "to": side(after),
                           "change": side([b - a for a, b in zip(before, after)])}}
