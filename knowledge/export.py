"""The knowledge base as plain data (contract §5), for `pnman fiches --format json`."""
from __future__ import annotations

from .loader import Knowledge
from .model import Fiche


def budget_export(fiche: Fiche, size: str | None = None) -> dict:
    b = fiche.budget
    out: dict = {}
    if b.by_size:
        out["by_size"] = {s: {"lines": [line.model_dump() for line in t.lines], "total_da_ht": t.total_da_ht,
                              "lines_sum_da_ht": t.lines_sum}
                          for s, t in b.by_size.items() if size is None or s == size}
    if b.days:
        out["days"] = {s: d.model_dump() for s, d in b.days.items() if size is None or s == size}
    if b.post_erp_days:
        out["post_erp_days"] = {s: d.model_dump() for s, d in b.post_erp_days.items() if size is None or s == size}
    if b.options:
        out["options"] = [o.model_dump() for o in b.options]
        if b.options_cumulative:
            out["options_cumulative"] = True
    if b.day_options:
        out["day_options"] = [o.model_dump() for o in b.day_options]
        out["per_expert"] = b.per_expert
        out["experts_count"] = b.experts_count
    if b.workstation_limit:
        out["workstation_limit"] = b.workstation_limit.model_dump()
    if b.text:
        out["text"] = list(b.text)
    return out


def fiche_export(kb: Knowledge, number: int, size: str | None = None) -> dict:
    fiche = kb.fiche(number)
    out = {
        "fiche": fiche.fiche,
        "title": fiche.title,
        "axis": fiche.axis,
        "axis_name": kb.guide.axes[fiche.axis],
        "type": fiche.type,
        "tool": fiche.tool,
        "pair": dict(fiche.pair) if fiche.pair else None,
        "specs": fiche.specs,
        "straddles": fiche.straddles.model_dump() if fiche.straddles else None,
        "alongside": fiche.alongside.model_dump() if fiche.alongside else None,
        "budget": budget_export(fiche, size),
        "objectives": list(fiche.objectives),
        "expected_results": list(fiche.expected_results),
        "population": [e.model_dump(exclude_none=True) for e in fiche.population],
        "prerequisites": [e.model_dump(exclude_none=True) for e in fiche.prerequisites],
        "scope": [e.model_dump(exclude_none=True) for e in fiche.scope],
        "activities": fiche.activities.model_dump() if fiche.activities else None,
        "experts": [e.model_dump() for e in fiche.experts],
        "provides": list(fiche.provides),
        "conditions": [{"id": c.id, "kind": c.kind, "facts": list(c.facts), "any_of": c.any_of,
                        "citation": c.citation.as_dict(), "interpretation": c.interpretation}
                       for c in kb.conditions[number]],
        "interpretations": list(fiche.interpretations),
    }
    if kb.amendments.get(number):       # a guide edition's figures: which ones, and the text behind each
        out["edition"] = kb.edition
        out["amended"] = [a.as_dict() for a in kb.amendments[number] if size is None or a.size in (None, size)]
    return out


def knowledge_export(kb: Knowledge, size: str | None = None) -> list[dict]:
    return [fiche_export(kb, n, size) for n in kb.fiches]
