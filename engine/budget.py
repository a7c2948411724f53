"""A fiche's budget for one size class, with the guide's own inconsistencies made visible.

The guide is the source of truth even where it contradicts itself: a printed total
that is not the sum of its lines is kept, both figures are shown, and the range
min..max of the totals covers both. A size class the guide prints no figure for
borrows the nearest printed class's figure, and says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from pnman.knowledge.figures import BY_SIZE, DAYS, POST_ERP_DAYS, WORKSTATION_LIMIT, Amendment, Figure
from pnman.knowledge.model import SIZE_CODES, Budget, Days, Fiche

from .plan_warnings import PlanWarning


@dataclass(frozen=True)
class StepBudget:
    """What a plan step costs: the contract's budget object and its min/max contributions."""
    budget: dict
    investment: tuple[int, int]
    days: tuple[int, int]
    warnings: tuple[PlanWarning, ...]


def _nearest(table: dict, size: str) -> str | None:
    """The printed size class closest to `size` (ties go to the smaller class)."""
    order = list(SIZE_CODES)
    index = order.index(size)
    for distance in range(1, len(order)):
        for candidate in (index - distance, index + distance):
            if 0 <= candidate < len(order) and order[candidate] in table:
                return order[candidate]
    return None


def _days(fiche: Fiche, table: dict[str, Days], size: str, part: str) -> tuple[dict, tuple[int, int], list[PlanWarning]]:
    warnings = []
    used = size if size in table else _nearest(table, size)
    entry = table[used]
    budget = {"size_class": size, "days": entry.days, "tolerance": entry.tolerance, "text": entry.text}
    if used != size:
        budget["assumed_from"] = used
        warnings.append(PlanWarning(
            "missing_size_figure", fiche.fiche,
            {"size_class": size, "printed_for": sorted(table), "assumed_from": used, "days": entry.days,
             "part": part, "text": entry.text}))
    return budget, (entry.days - entry.tolerance, entry.days + entry.tolerance), warnings


def step_budget(fiche: Fiche, size: str | None, part: str | None = None,
                amendments: tuple[Amendment, ...] = ()) -> StepBudget:
    """The budget of one plan step (a fiche, or one part of a fiche that straddles an
    acquisition) for a size class. `amendments`: the fiche's figures a guide edition changed
    (Knowledge.amendments); those this step uses are listed in its budget as `amended`, each
    with the printed figure, the edition's and the reference of the text that changed it."""
    b: Budget = fiche.budget
    warnings: list[PlanWarning] = []
    investment = (0, 0)
    days = (0, 0)
    if size is None:
        return StepBudget({"size_class": None}, investment, days, ())
    if b.by_size:
        used = size if size in b.by_size else _nearest(b.by_size, size)
        table = b.by_size[used]
        budget = {"size_class": size,
                  "lines": [line.model_dump() for line in table.lines],
                  "total_da_ht": table.total_da_ht,
                  "lines_sum_da_ht": table.lines_sum}
        if used != size:
            budget["assumed_from"] = used
        low, high = sorted((table.total_da_ht, table.lines_sum))
        investment = (low, high)
        if table.total_da_ht != table.lines_sum:
            warnings.append(PlanWarning(
                "total_mismatch", fiche.fiche,
                {"size_class": size, "printed_total_da_ht": table.total_da_ht, "lines_sum_da_ht": table.lines_sum}))
    elif b.options:
        options = [o.model_dump() for o in b.options]
        budget = {"size_class": size, "options": options}
        if b.options_cumulative:
            investment = (min(o.min_da_ht for o in b.options), sum(o.max_da_ht for o in b.options))
            budget["combination"] = "options may be combined: min = cheapest option, max = all options"
        else:
            investment = (min(o.min_da_ht for o in b.options), max(o.max_da_ht for o in b.options))
            budget["combination"] = "one option: min = lowest minimum, max = highest maximum"
        budget["min_da_ht"], budget["max_da_ht"] = investment
    elif b.days or b.post_erp_days:
        after = fiche.straddles.after if fiche.straddles else None
        if part is not None and part == after:
            budget, days, warnings_ = _days(fiche, b.post_erp_days, size, part)
        else:
            budget, days, warnings_ = _days(fiche, b.days, size, part or "main")
        warnings.extend(warnings_)
        if part:
            budget["part"] = part
    elif b.day_options:
        experts = b.experts_count if b.per_expert else 1
        budget = {"size_class": size,
                  "options": [o.model_dump() for o in b.day_options],
                  "per_expert": b.per_expert, "experts": experts}
        days = (min(o.min_days for o in b.day_options) * experts, max(o.max_days for o in b.day_options) * experts)
        budget["min_days"], budget["max_days"] = days
    else:  # pragma: no cover - the loader requires a budget
        budget = {"size_class": size}
    if amendments:
        used = budget.get("assumed_from") or size
        table = POST_ERP_DAYS if b.post_erp_days and part is not None and fiche.straddles \
            and part == fiche.straddles.after else DAYS
        shown = [a.as_dict() for a in amendments if _uses(a.figure, used, size, table)]
        if shown:
            budget["amended"] = shown
    return StepBudget(budget, investment, days, tuple(warnings))


def _uses(figure: Figure, used: str, size: str, days: str) -> bool:
    """Whether a step's budget shows this figure: its by-size table or day count for the size
    class it uses (`used`: its own or the one it borrows), the part's day table (`days`), the
    company's own size for a workstation limit; options and the expert count always."""
    if figure.table == BY_SIZE:
        return figure.size == used
    if figure.table == WORKSTATION_LIMIT:
        return figure.size == size
    if figure.table in (DAYS, POST_ERP_DAYS):
        return figure.table == days and figure.size == used
    return True


def guide_anomalies(fiches: dict[int, Fiche]) -> list[PlanWarning]:
    """What the guide's own figures say that does not add up (for `pnman validate`)."""
    found = []
    for number, fiche in fiches.items():
        b = fiche.budget
        for size, table in (b.by_size or {}).items():
            if table.total_da_ht != table.lines_sum:
                found.append(PlanWarning("total_mismatch", number, {
                    "size_class": size, "printed_total_da_ht": table.total_da_ht, "lines_sum_da_ht": table.lines_sum}))
        for name, table in (("days", b.days), ("post_erp_days", b.post_erp_days)):
            if table:
                missing = [s for s in SIZE_CODES if s not in table]
                if missing:
                    found.append(PlanWarning("missing_size_figure", number, {
                        "table": name, "missing": missing, "printed_for": [s for s in SIZE_CODES if s in table]}))
        options = b.options or []
        ranged = [o for o in options if o.min_da_ht != o.max_da_ht]
        for first, second in zip(ranged, ranged[1:]):
            if second.min_da_ht < first.max_da_ht:
                found.append(PlanWarning("odd_ranges", number, {"first": first.model_dump(), "second": second.model_dump()}))
            elif second.min_da_ht == first.max_da_ht:
                found.append(PlanWarning("touching_ranges", number, {
                    "first": first.model_dump(), "second": second.model_dump(), "boundary_da_ht": first.max_da_ht}))
        for table in (b.by_size or {}).values():
            for line in table.lines:
                if "DZD" in line.description:
                    found.append(PlanWarning("currency_notation", number, {"description": line.description}))
    return found
