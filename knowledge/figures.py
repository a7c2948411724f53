"""A figure of a fiche's budget and a guide edition's change to it, as typed data.

A `Figure` says which figure it is (its table, its size class, the line or option, the
value's name); `Figure.path` is the one place that spells it for a file
(`budget.by_size.PE.lines[2].amount_da_ht`). Editions build figures, budgets select the
ones a plan step uses, reports word them: all by fields, none by reading a path back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Tables of a budget a figure belongs to (model.Budget's fields).
BY_SIZE, DAYS, POST_ERP_DAYS = "by_size", "days", "post_erp_days"
OPTIONS, DAY_OPTIONS = "options", "day_options"
EXPERTS_COUNT, WORKSTATION_LIMIT = "experts_count", "workstation_limit"
WORKSTATIONS = "workstations"       # the name of a workstation limit's figure


@dataclass(frozen=True)
class Figure:
    table: str                  # BY_SIZE, DAYS, POST_ERP_DAYS, OPTIONS, DAY_OPTIONS, EXPERTS_COUNT, WORKSTATION_LIMIT
    name: str                   # amount_da_ht, total_da_ht, days, tolerance, min_da_ht, max_days, experts_count, workstations…
    size: str | None = None     # the size class of a by-size table, a day count or a workstation limit
    index: int | None = None    # the line of a by-size table, or the option, from 0

    @property
    def path(self) -> str:
        """The figure as files and records name it."""
        if self.table == BY_SIZE:
            line = f".lines[{self.index}]" if self.index is not None else ""
            return f"budget.by_size.{self.size}{line}.{self.name}"
        if self.table in (DAYS, POST_ERP_DAYS):
            return f"budget.{self.table}.{self.size}.{self.name}"
        if self.table in (OPTIONS, DAY_OPTIONS):
            return f"budget.{self.table}[{self.index}].{self.name}"
        if self.table == WORKSTATION_LIMIT:
            return f"budget.workstation_limit.{self.size}"
        return f"budget.{self.name}"

    @property
    def post_erp(self) -> bool:
        return self.table == POST_ERP_DAYS


@dataclass(frozen=True)
class Amendment:
    """A figure a guide edition changed: the printed value, the edition's, and the text behind it."""
    fiche: int
    figure: Figure
    size: str | None
    base: Any
    value: Any
    edition: str
    date_in_force: str
    reference: str

    def as_dict(self) -> dict:
        return {"fiche": self.fiche, "figure": self.figure.path, "size": self.size, "base": self.base,
                "value": self.value, "edition": self.edition, "date_in_force": self.date_in_force,
                "reference": self.reference}
