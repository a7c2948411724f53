"""The schema of every knowledge file: fiches, guide.yaml, facts.yaml, questions.yaml.

Strict (unknown keys, wrong types and missing keys are errors) because every decision
pnman makes rests on these files; the loader turns a violation into an error naming
the file and the key.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .sizes import SIZE_CODES
SizeCode = Literal["TPE", "PE", "ME"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)


# -- fiches -------------------------------------------------------------------------------
class BudgetLine(Strict):
    category: str
    description: str
    amount_da_ht: int


class SizeTable(Strict):
    lines: list[BudgetLine]
    total_da_ht: int

    @property
    def lines_sum(self) -> int:
        return sum(line.amount_da_ht for line in self.lines)


class Days(Strict):
    days: int
    tolerance: int = 0
    text: str


class DayOption(Strict):
    label: str
    min_days: int
    max_days: int
    text: str


class PricedOption(Strict):
    label: str
    description: Optional[str] = None
    min_da_ht: int
    max_da_ht: int
    sizes: Optional[str] = None         # as printed; None: every size class


class WorkstationLimit(Strict):
    """A ceiling on a profile quantity, by size class (fiche 13: 4 or 8 computers)."""
    fact: str
    TPE: int
    PE: int
    ME: int
    text: str


class Budget(Strict):
    text: list[str] = []
    by_size: Optional[dict[SizeCode, SizeTable]] = None
    days: Optional[dict[SizeCode, Days]] = None
    post_erp_days: Optional[dict[SizeCode, Days]] = None
    options: Optional[list[PricedOption]] = None
    options_cumulative: bool = False        # options may be combined (their ceilings add up)
    day_options: Optional[list[DayOption]] = None
    per_expert: bool = False
    experts_count: int = 1
    workstation_limit: Optional[WorkstationLimit] = None


class Entry(Strict):
    text: str
    section: Optional[str] = None
    intent: bool = False
    requires: Optional[dict[str, Any]] = None
    requires_any: Optional[list[dict[str, Any]]] = None
    # The guide puts a company for which this entry fails outside the fiche, and the
    # company cannot bring it about (fiche 13: « n'utilise pas encore l'informatique »).
    excludes: bool = False
    interpretation: Optional[str] = None


class Step(Strict):
    title: str
    items: list[str] = []


class Activities(Strict):
    intro: Optional[str] = None
    steps: list[Step] = []


class Expert(Strict):
    role: Optional[str] = None
    qualification: list[str]
    general_experience: str
    specific_experience: list[str]


class Straddle(Strict):
    """A coaching fiche whose parts surround an acquisition (fiche 9 around fiche 10)."""
    acquisition: int
    before: str                     # the part planned before the acquisition
    after: str                      # the part planned after it
    text: str                       # the guide's sentence that says so
    after_text: Optional[str] = None    # the guide's sentence on when the part after begins


class Alongside(Strict):
    """A coaching fiche that starts before its acquisition and goes on while and after it is
    carried out (fiches 22, 24, 26: publication, training, référencement over months)."""
    acquisition: int
    text: list[str]                 # the guide's sentences that say so, verbatim from the activities


class Fiche(Strict):
    fiche: int
    title: str
    short_title: Optional[str] = None
    axis: Literal[1, 2, 3, 4]
    type: Literal["investment", "coaching"]
    tool: Optional[str] = None
    specs: Optional[str] = None         # the fact « a cahier des charges exists » for the tool
    pair: Optional[dict[Literal["acquisition", "preparation"], int]] = None
    straddles: Optional[Straddle] = None
    alongside: Optional[Alongside] = None
    objectives: list[str]
    expected_results: list[str]
    population: list[Entry]
    prerequisites: list[Entry]
    scope: list[Entry] = []
    activities: Optional[Activities] = None
    experts: list[Expert] = []
    budget: Budget
    provides: list[str] = []
    interpretations: list[str] = []


# -- guide.yaml ---------------------------------------------------------------------------
class GuideIdentity(Strict):
    number: int
    title: str
    programme: str


class SectionRef(Strict):
    fiche: int
    section: str


class SizeClass(Strict):
    code: SizeCode
    min: int
    max: int
    text: str


class SizeClasses(Strict):
    citation: SectionRef
    classes: list[SizeClass]
    interpretation: str


class GeneralConditions(Strict):
    text: str
    section: str
    interpretation: str


class Caveat(Strict):
    section: str
    text: str


class Goal(Strict):
    fiche: int
    preparation: Optional[int] = None


class Implication(Strict):
    id: str
    if_: dict[str, Any] = Field(alias="if")
    then: dict[str, Any]
    interpretation: str

    @property
    def premise(self) -> tuple[str, Any]:
        ((fact, value),) = self.if_.items()
        return fact, value

    @property
    def conclusion(self) -> tuple[str, Any]:
        ((fact, value),) = self.then.items()
        return fact, value


class Guide(Strict):
    guide: GuideIdentity
    size_classes: SizeClasses
    general_conditions: GeneralConditions
    caveats: list[Caveat]
    axes: dict[int, str]
    recommendation_codes: dict[str, str]
    goals: dict[str, Goal]
    implications: list[Implication] = []
    provider_preference: dict[str, list[int]] = {}


# -- facts.yaml ---------------------------------------------------------------------------
class FactSpec(Strict):
    type: Literal["string", "int", "bool", "list", "intlist"]
    role: Literal["identity", "request", "eligibility", "prerequisite"]
    min: Optional[int] = None
    max: Optional[int] = None
    max_length: Optional[int] = None
    choices: list[str] = []
    # The company cannot change it (its size, its sector): never proposed as a change.
    unchangeable: bool = False


# -- questions.yaml -----------------------------------------------------------------------
class QuestionSpec(Strict):
    kind: Literal["bool", "int", "goals", "fiches", "list", "text"]
    required: bool = False
    # Opening questions come first, in this order (who the company is, what it wants).
    opening: Optional[int] = None
    # Among the other questions, a lower priority is asked earlier; ties go to the facts
    # that decide most. Hard conditions come first: a company that cannot benefit
    # should learn it early, and why.
    priority: int = 50


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
