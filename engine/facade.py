"""The engine's one entry point: a checked profile in, its evaluation and plan out.

Every face (assess, check, graph, batch, the interview, the web) goes through
`assess`; the record for a file or an audit is one call further, `.record()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from pnman.knowledge.loader import Knowledge
from pnman.rules.evaluate import Evaluation, evaluate

from .planner import Plan, build_plan
from .record import build_record


@dataclass(frozen=True)
class Assessment:
    kb: Knowledge
    evaluation: Evaluation
    plan: Plan

    @property
    def profile(self) -> Mapping[str, Any]:
        return self.evaluation.profile

    def record(self, *, timestamp: str | None = None) -> dict:
        """The full record, with no wording, (contract §4) with its trace and digest."""
        return build_record(self.evaluation, self.plan.steps, self.plan.totals, self.plan.warnings, self.kb,
                            timestamp=timestamp)


def assess(profile: Mapping[str, Any], kb: Knowledge) -> Assessment:
    """Evaluate a checked profile and plan its goals."""
    evaluation = evaluate(profile, kb)
    return Assessment(kb, evaluation, build_plan(evaluation, kb))
