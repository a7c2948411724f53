"""Plan warnings as values: a code, the fiche and the figures it is about.

A warning says where the guide's own figures are inconsistent or missing, or where the
plan had to do without something. Its sentence is the catalogue's (`warnings.<code>`),
filled with these figures at the edge; the decision never depends on the wording.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pnman.rules.evaluate import Contradiction


@dataclass(frozen=True)
class PlanWarning:
    code: str
    fiche: int | None
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "fiche": self.fiche}
        if self.figures:
            out["figures"] = self.figures
        return out

    @property
    def identity(self) -> bytes:
        """What makes two warnings the same one (the plan says each once)."""
        return orjson.dumps([self.code, self.fiche, self.figures], option=orjson.OPT_SORT_KEYS)


# How a record spells a contradiction's rules in its `rule` figure (contract §4, kept by
# every stored record): joined here, read back by `contradiction_rules` alone.
_RULES_JOINED_BY = ","


def contradiction_warning(contradiction: Contradiction) -> PlanWarning:
    """The warning a contradiction of the profile gives, as the record carries it."""
    implied = contradiction.implied
    return PlanWarning("contradictory_facts", None, {
        "fact": contradiction.fact, "stated": contradiction.stated,
        "implied": list(implied) if isinstance(implied, tuple) else implied,
        "rule": _RULES_JOINED_BY.join(contradiction.rules)})


def contradiction_rules(figures: dict[str, Any]) -> tuple[str, ...]:
    """The rules of a recorded `contradictory_facts` warning (a report of a stored record,
    read from its file): the exact inverse of `contradiction_warning`'s `rule` (tested)."""
    return tuple(str(figures.get("rule") or "").split(_RULES_JOINED_BY))
