"""The schema of every knowledge file: fiches, guide.yaml, facts.yaml, questions.yaml.

Strict (unknown keys, wrong types and missing keys are errors) because every decision
pnman makes rests on these files; the loader turns a violation into an error naming
the file and the key.

The classes here are plain frozen values: pydantic checks a file against them when it is
read (knowledge/schema.py makes its models from these declarations), and the knowledge a
process keeps (knowledge/snapshot.py) is unpickled without importing pydantic, which with
its models was half of every command's start-up (issue 23).
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from .sizes import SIZE_CODES
SizeCode = Literal["TPE", "PE", "ME"]


class Key:
    """A field read under another key of the file (`if_` is written `if`)."""

    def __init__(self, name: str):
        self.name = name


_MUTABLE = (list, dict, set)


class Strict:
    """A frozen value with the fields its class annotates, in that order; a default given in
    the class (copied when mutable), none required. `model_dump` and `model_copy` as
    pydantic's, the two the code uses. Not a frozen `dataclasses.dataclass`: making one
    compiles its methods (~4 M instructions a class, 25 classes: a sixth of a command's
    start-up), where this base only reads the annotations."""

    _fields: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    _keys: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        names = tuple(cls.__dict__.get("__annotations__", {}))
        cls._fields = tuple(dict.fromkeys(cls._fields + names))
        cls._defaults = dict(cls._defaults)
        cls._keys = dict(cls._keys)
        for name in names:
            if name not in cls.__dict__:
                continue
            value = cls.__dict__[name]
            if isinstance(value, Key):
                cls._keys[name] = value.name
                delattr(cls, name)
            else:
                cls._defaults[name] = value

    def __init__(self, **values: Any):
        own = self.__dict__
        for name in self._fields:
            if name in values:
                own[name] = values.pop(name)
            elif name in self._defaults:
                default = self._defaults[name]
                own[name] = default.copy() if isinstance(default, _MUTABLE) else default
            else:
                raise TypeError(f"{type(self).__name__}: {name} is required")
        if values:
            raise TypeError(f"{type(self).__name__}: no field {', '.join(sorted(values))}")

    def __setattr__(self, name: str, value: Any):
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str):
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash((self.__class__, *self.__dict__.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._fields)})"

    def model_dump(self, *, exclude_none: bool = False) -> dict[str, Any]:
        return {name: _dumped(value, exclude_none) for name, value in self.__dict__.items()
                if not (exclude_none and value is None)}

    def model_copy(self, *, update: dict[str, Any] | None = None):
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(update or {})
        return copy


def _dumped(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, Strict):
        return value.model_dump(exclude_none=exclude_none)
    if isinstance(value, list):
        return [_dumped(item, exclude_none) for item in value]
    if isinstance(value, dict):
        return {key: _dumped(item, exclude_none) for key, item in value.items()}
    return value


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
    if_: dict[str, Any] = Key("if")
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


MODELS = tuple(value for value in list(globals().values())
               if isinstance(value, type) and issubclass(value, Strict) and value is not Strict)
