"""Why a step is in the plan, as typed data: a `Reason` is a plan rule (`Rule`) and the
fiches, fact, goal or step it is about.

The planner builds reasons once and every part of pnman reads their fields; `Reason.id`
is the one place that spells a reason as the record's `because` id
(`plan.preparation.optional.f3.before.f4`), and `Reason.of_id` the one place that reads a
recorded id back (a report of a stored record), its exact inverse (tested both ways).
Conditions of the knowledge and the evaluation's status rules are carried whole: their
ids are the knowledge's and the rules layer's, not the planner's.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .steps import StepId


class Rule(str, Enum):
    GOAL = "goal"                                   # goal.<goal>: the company asks for it
    REQUEST = "request"                             # request.fiche.<n>: the fiche is asked for directly
    PREPARATION = "preparation"                     # plan.preparation.f<prep>.before.f<n>
    PREPARATION_OPTIONAL = "preparation_optional"   # plan.preparation.optional.f<prep>.before.f<n>
    AFTER_PART = "after_part"                       # plan.<part>.after.f<n>: the part after the acquisition
    AWAITS_ACQUISITION = "awaits_acquisition"       # plan.<part>.awaits.f<n>: after the company's own acquisition
    CHOICE_PLANNED = "choice_planned"               # plan.choice.<fact>.already_planned.for.f<n>
    CHOICE_FIRST_USABLE = "choice_first_usable"     # plan.choice.<fact>.first_usable.for.f<n>
    PROVIDER = "provider"                           # plan.provider.<fact>.for.f<n>
    PRESUPPOSES_FOR = "presupposes_for"             # plan.presupposes.<fact>.for.<action step>
    PRESUPPOSES_AFTER = "presupposes_after"         # plan.presupposes.<fact>.after.f<n>
    OPTIONAL_PART_OF = "optional_part_of"           # plan.optional.part_of.f<n>
    OPTIONAL_FOR = "optional_for"                   # plan.optional.for.<step>
    SERVES_GOAL = "serves_goal"                     # plan.serves_goal.<goal>.acquisition_ineligible.f<n>
    CONDITION = "condition"                         # a condition of the knowledge (its own id)
    STATUS = "status"                               # the evaluation's status rule (status.f<n>.<status>)


# The rules that put a fiche in the plan because a planned fiche needs what it brings.
BRINGS = (Rule.PROVIDER, Rule.CHOICE_PLANNED, Rule.CHOICE_FIRST_USABLE)


@dataclass(frozen=True)
class Reason:
    rule: Rule
    fiche: int | None = None        # the fiche the step is for: acquisition, needer, the fiche of a part
    other: int | None = None        # the preparation (PREPARATION*), the provider (PRESUPPOSES_AFTER)
    fact: str | None = None
    goal: str | None = None
    part: str | None = None
    step: StepId | None = None      # the step served (PRESUPPOSES_FOR, OPTIONAL_FOR)
    ref: str | None = None          # CONDITION, STATUS: the id as the knowledge or the rules layer give it

    @property
    def id(self) -> str:
        """The reason as the record's `because` id."""
        r = self.rule
        if r is Rule.GOAL:
            return f"goal.{self.goal}"
        if r is Rule.REQUEST:
            return f"request.fiche.{self.fiche}"
        if r is Rule.PREPARATION:
            return f"plan.preparation.f{self.other}.before.f{self.fiche}"
        if r is Rule.PREPARATION_OPTIONAL:
            return f"plan.preparation.optional.f{self.other}.before.f{self.fiche}"
        if r is Rule.AFTER_PART:
            return f"plan.{self.part}.after.f{self.fiche}"
        if r is Rule.AWAITS_ACQUISITION:
            return f"plan.{self.part}.awaits.f{self.fiche}"
        if r is Rule.CHOICE_PLANNED:
            return f"plan.choice.{self.fact}.already_planned.for.f{self.fiche}"
        if r is Rule.CHOICE_FIRST_USABLE:
            return f"plan.choice.{self.fact}.first_usable.for.f{self.fiche}"
        if r is Rule.PROVIDER:
            return f"plan.provider.{self.fact}.for.f{self.fiche}"
        if r is Rule.PRESUPPOSES_FOR:
            return f"plan.presupposes.{self.fact}.for.{self.step.rule_name}"
        if r is Rule.PRESUPPOSES_AFTER:
            return f"plan.presupposes.{self.fact}.after.f{self.other}"
        if r is Rule.OPTIONAL_PART_OF:
            return f"plan.optional.part_of.f{self.fiche}"
        if r is Rule.OPTIONAL_FOR:
            return f"plan.optional.for.{self.step.rule_name}"
        if r is Rule.SERVES_GOAL:
            return f"plan.serves_goal.{self.goal}.acquisition_ineligible.f{self.fiche}"
        return self.ref

    @property
    def origin(self) -> str:
        """Where the id comes from: `condition` (the knowledge) or `python` (derived by pnman)."""
        return "condition" if self.rule is Rule.CONDITION else "python"

    @classmethod
    def of_id(cls, text: str) -> Reason:
        """A recorded `because` id read back: the inverse of `id` (a condition's or a status
        rule's id comes back whole, and so does an id of no known form, from an edited file)."""
        try:
            return cls._of_id(str(text))
        except (ValueError, IndexError):
            return cls(Rule.CONDITION, ref=str(text))

    @classmethod
    def _of_id(cls, text: str) -> Reason:
        parts = text.split(".")
        head = parts[0]
        if head == "goal" and len(parts) == 2:
            return cls(Rule.GOAL, goal=parts[1])
        if head == "request" and len(parts) == 3 and parts[1] == "fiche":
            return cls(Rule.REQUEST, fiche=int(parts[2]))
        if head == "status":
            return cls(Rule.STATUS, ref=text)
        if head != "plan" or len(parts) < 3:
            return cls(Rule.CONDITION, ref=text)
        kind, rest = parts[1], parts[2:]
        if kind == "preparation" and len(rest) == 3 and rest[1] == "before":
            return cls(Rule.PREPARATION, fiche=_number(rest[2]), other=_number(rest[0]))
        if kind == "preparation" and rest[0] == "optional" and len(rest) == 4:
            return cls(Rule.PREPARATION_OPTIONAL, fiche=_number(rest[3]), other=_number(rest[1]))
        if kind == "choice" and len(rest) == 4 and rest[2] == "for":
            rule = Rule.CHOICE_PLANNED if rest[1] == "already_planned" else Rule.CHOICE_FIRST_USABLE
            return cls(rule, fiche=_number(rest[3]), fact=rest[0])
        if kind == "provider" and len(rest) == 3:
            return cls(Rule.PROVIDER, fiche=_number(rest[2]), fact=rest[0])
        if kind == "presupposes" and rest[1] == "for":
            return cls(Rule.PRESUPPOSES_FOR, fact=rest[0], step=_step(rest[2:]))
        if kind == "presupposes" and rest[1] == "after":
            return cls(Rule.PRESUPPOSES_AFTER, fact=rest[0], other=_number(rest[2]))
        if kind == "optional" and rest[0] == "part_of":
            return cls(Rule.OPTIONAL_PART_OF, fiche=_number(rest[1]))
        if kind == "optional" and rest[0] == "for":
            return cls(Rule.OPTIONAL_FOR, step=_step(rest[1:]))
        if kind == "serves_goal" and len(rest) == 3:
            return cls(Rule.SERVES_GOAL, goal=rest[0], fiche=_number(rest[2]))
        if len(rest) == 2 and rest[0] == "after":
            return cls(Rule.AFTER_PART, part=kind, fiche=_number(rest[1]))
        if len(rest) == 2 and rest[0] == "awaits":
            return cls(Rule.AWAITS_ACQUISITION, part=kind, fiche=_number(rest[1]))
        return cls(Rule.CONDITION, ref=text)


def _number(text: str) -> int:
    """`f12` -> 12."""
    if not (text.startswith("f") and text[1:].isdigit()):
        raise ValueError(text)
    return int(text[1:])


def _step(parts: list[str]) -> StepId:
    if parts[0] in ("action", "check"):
        return StepId.action(".".join(parts[1:]), parts[0] == "check")
    return StepId.of_fiche(_number(parts[0]), parts[1] if len(parts) > 1 else None)
