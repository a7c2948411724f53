"""The schema of an edition file (knowledge/editions/*.yaml): pydantic models, read only
when a command names an edition (knowledge/editions.py imports this on first use)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

from pydantic import BaseModel, Field

from .model import SizeCode
from .schema import CONFIG


class Strict(BaseModel):
    model_config = CONFIG       # as the knowledge files' models (schema.py)


# -- editions/*.yaml ----------------------------------------------------------------------
# An edition's figure: amounts in DA, days, counts. A trillion is far beyond any figure of
# the programme, and keeps every sum within 64 bits and the Decimal arithmetic of budgets
# (10^30 once ended in an internal error instead of an error naming the file and key).
MAX_FIGURE = 10**12
Figure = Annotated[int, Field(ge=-MAX_FIGURE, le=MAX_FIGURE)]


class FigureChange(Strict):
    """One changed figure (or a few figures of one item) of a fiche's budget, addressed by
    fiche number, size class and line (its category, or its place from 1), option or day
    option (its label, or its place from 1); `reference` is the text that changed it
    (default: the edition's reference)."""
    fiche: int
    size: Optional[SizeCode] = None
    line: Optional[int | str] = None
    post_erp: bool = False                  # days of budget.post_erp_days, not budget.days
    option: Optional[int | str] = None      # budget.options
    day_option: Optional[int | str] = None  # budget.day_options
    amount_da_ht: Optional[Figure] = None      # a line's amount (size, line)
    total_da_ht: Optional[Figure] = None       # a table's printed total (size)
    days: Optional[Figure] = None              # coaching days (size; post_erp)
    tolerance: Optional[Figure] = None         # their tolerance (size; post_erp)
    min_da_ht: Optional[Figure] = None         # a priced option's range (option)
    max_da_ht: Optional[Figure] = None
    min_days: Optional[Figure] = None          # a day option's range (day_option)
    max_days: Optional[Figure] = None
    experts_count: Optional[Figure] = None     # experts a per-expert mission mobilises
    workstations: Optional[Figure] = None      # the workstation limit of a size class (size)
    text: Optional[str] = None              # the amended sentence behind a day figure or limit
    reference: Optional[str] = None


class EditionFile(Strict):
    """A dated overlay of figures on the printed guide (or on another edition, `extends`)."""
    edition: str
    date_in_force: date = Field(strict=False)
    reference: str
    extends: Optional[str] = None
    note: Optional[str] = None
    changes: list[FigureChange] = Field(min_length=1)
