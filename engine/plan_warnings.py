"""Plan warnings as values: a code, the fiche and the figures it is about.

A warning says where the guide's own figures are inconsistent or missing, or where the
plan had to do without something. Its sentence is the catalogue's (`warnings.<code>`),
filled with these figures at the edge; the decision never depends on the wording.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


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
