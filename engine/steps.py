"""A plan step as typed data: its identity (`StepId`) and the step itself (`PlanStep`).

A step is built once by the planner and read as fields everywhere; `PlanStep.as_dict`
is the one place that turns it into the record's JSON (contract §4), and `StepId.label`
the one place that names it (`f13`, `f9:post_erp`, `action.it_manager`,
`check.website`) for cases, impact reports and pictures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping


class StepKind(str, Enum):
    FICHE = "fiche"
    COMPANY_ACTION = "company_action"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StepId:
    """What a plan step is: a fiche (or one part of it), or a company action on one fact
    (bring it about, or check it when it is unknown)."""
    kind: StepKind
    fiche: int | None = None
    part: str | None = None
    fact: str | None = None
    check: bool = False

    def __hash__(self) -> int:
        """Kept once computed: the planner hashes step ids by the million in an interview's
        « what if » trials, and the generated hash went through the Enum's Python `__hash__`."""
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash((self.kind.value, self.fiche, self.part, self.fact, self.check))
            object.__setattr__(self, "_hash", value)
            return value

    def __reduce__(self):
        """Pickled by its fields, never with the kept hash (another process hashes strings otherwise)."""
        return (StepId, (self.kind, self.fiche, self.part, self.fact, self.check))

    @classmethod
    def of_fiche(cls, number: int, part: str | None = None) -> StepId:
        found = _FICHE_IDS.get((number, part))
        if found is None:
            found = _FICHE_IDS[(number, part)] = cls(StepKind.FICHE, fiche=number, part=part)
        return found

    @classmethod
    def action(cls, fact: str, check: bool = False) -> StepId:
        found = _ACTION_IDS.get((fact, check))
        if found is None:
            found = _ACTION_IDS[(fact, check)] = cls(StepKind.COMPANY_ACTION, fact=fact, check=check)
        return found

    @classmethod
    def of_record(cls, step: Mapping[str, Any]) -> StepId:
        """The identity of a recorded step, read from its fields."""
        if step["kind"] == StepKind.COMPANY_ACTION.value:
            return cls.action(step["fact"], bool(step.get("check_only")))
        return cls.of_fiche(step["fiche"], step.get("part"))

    @property
    def is_fiche(self) -> bool:
        return self.kind is StepKind.FICHE

    @property
    def label(self) -> str:
        """The step's name: `f9:post_erp`, `f16`; a company action's record id, `action.<fact>`
        or `check.<fact>`."""
        if self.is_fiche:
            return f"f{self.fiche}" + (f":{self.part}" if self.part else "")
        return f"{'check' if self.check else 'action'}.{self.fact}"

    @property
    def rule_name(self) -> str:
        """How a plan rule id names the step (`plan.optional.for.f9.preparation`): dots only."""
        return self.label.replace(":", ".")


# One object per step id, its hash computed once. A knowledge base has a few hundred:
# the planner makes them from its fiches, parts and facts only.
_FICHE_IDS: dict[tuple, StepId] = {}
_ACTION_IDS: dict[tuple, StepId] = {}


def step_label(step: Mapping[str, Any]) -> str:
    """The name of a recorded plan step (its StepId's label)."""
    return StepId.of_record(step).label


@dataclass(frozen=True)
class PlanStep:
    """One step of the plan, with its place (`index`, from 1) and what the planner knows of it."""
    index: int
    id: StepId
    because: tuple = ()                 # engine.reasons.Reason values
    after: tuple[int, ...] = ()         # the planned fiches it comes after
    optional: bool = False
    # a company action
    needed_by: tuple[int, ...] = ()
    eligibility_check: bool = False
    any_of: tuple[str, ...] = ()        # a check of alternatives: any one of these facts is enough
    # a fiche
    title: str | None = None
    type: str | None = None
    status: str | None = None
    budget: dict = field(default_factory=dict)
    to_confirm: bool = False
    runs_alongside: int | None = None   # the planned acquisition this coaching goes on during

    @property
    def kind(self) -> StepKind:
        return self.id.kind

    @property
    def fiche(self) -> int | None:
        return self.id.fiche

    @property
    def part(self) -> str | None:
        return self.id.part

    @property
    def fact(self) -> str | None:
        return self.id.fact

    @property
    def check_only(self) -> bool:
        return self.id.check

    def as_dict(self) -> dict:
        """The step as the record has it (contract §4), with the origin of each reason."""
        because = [r.id for r in self.because]
        origins = [r.origin for r in self.because]
        if not self.id.is_fiche:
            step = {"step": self.index, "kind": self.kind.value, "id": self.id.label, "fact": self.fact,
                    "needed_by": list(self.needed_by), "check_only": self.check_only,
                    "eligibility_check": self.eligibility_check, "optional": self.optional,
                    "after": list(self.after), "because": because, "because_origin": origins}
            if self.any_of:
                step["any_of"] = list(self.any_of)
            return step
        step = {"step": self.index, "kind": self.kind.value, "fiche": self.fiche, "title": self.title,
                "type": self.type, "status": self.status, "budget": self.budget, "because": because,
                "after": list(self.after), "optional": self.optional, "to_confirm": self.to_confirm}
        if self.part:
            step["part"] = self.part
        if self.runs_alongside is not None:
            step["runs_alongside"] = self.runs_alongside
        step["because_origin"] = origins
        return step
