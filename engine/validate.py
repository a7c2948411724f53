"""`pnman validate`: check the knowledge base and report what the guide itself gets wrong.

Errors (the knowledge is broken) and findings (the guide's own inconsistencies, faithfully
encoded) are kept apart: the first make the command fail, the second are information.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pnman.knowledge.errors import InputError, KnowledgeError, Phrase, ValueOutOfRange
from pnman.knowledge.guidetext import GuideText, find_guide
from pnman.knowledge.loader import Knowledge
from pnman.rules.compile import check_fact_ids, fact_ids

from .budget import guide_anomalies
from .plan_warnings import PlanWarning


@dataclass
class Report:
    checks: list[dict] = field(default_factory=list)        # {"check": code, "figures": {...}}
    errors: list[dict] = field(default_factory=list)        # {"where": ..., "text": ...}
    findings: list[PlanWarning] = field(default_factory=list)
    interpretations: list[tuple[str, str]] = field(default_factory=list)
    editions: list[dict] = field(default_factory=list)      # edition_checks()

    @property
    def ok(self) -> bool:
        return not self.errors and not any(e["errors"] or e["broken"] for e in self.editions)


def _quotations(kb: Knowledge):
    """Every verbatim string of the knowledge, with where it sits."""
    for number, fiche in kb.fiches.items():
        where = f"fiche {number}"
        yield where + " title", fiche.title
        for i, text in enumerate(fiche.objectives):
            yield f"{where} objectives[{i}]", text
        for i, text in enumerate(fiche.expected_results):
            yield f"{where} expected_results[{i}]", text
        for section in ("population", "prerequisites", "scope"):
            for i, entry in enumerate(getattr(fiche, section)):
                yield f"{where} {section}[{i}]", entry.text
        if fiche.activities:
            if fiche.activities.intro:
                yield f"{where} activities.intro", fiche.activities.intro
            for s, step in enumerate(fiche.activities.steps):
                yield f"{where} activities.steps[{s}].title", step.title
                for i, item in enumerate(step.items):
                    yield f"{where} activities.steps[{s}].items[{i}]", item
        for e, expert in enumerate(fiche.experts):
            for i, text in enumerate([*expert.qualification, expert.general_experience, *expert.specific_experience]):
                yield f"{where} experts[{e}][{i}]", text
        b = fiche.budget
        for i, text in enumerate(b.text):
            yield f"{where} budget.text[{i}]", text
        for size, table in (b.by_size or {}).items():
            for i, line in enumerate(table.lines):
                yield f"{where} budget.by_size.{size}.lines[{i}]", line.description
        for name in ("days", "post_erp_days"):
            for size, days in (getattr(b, name) or {}).items():
                yield f"{where} budget.{name}.{size}", days.text
        for i, option in enumerate(b.day_options or []):
            yield f"{where} budget.day_options[{i}]", option.text
        for i, option in enumerate(b.options or []):
            if option.description:
                yield f"{where} budget.options[{i}]", option.description
        if b.workstation_limit:
            yield f"{where} budget.workstation_limit", b.workstation_limit.text
    for number, conditions in kb.conditions.items():
        for condition in conditions:
            yield f"condition {condition.id}", condition.citation.text
    for number, fiche in kb.fiches.items():
        if fiche.straddles:
            yield f"fiche {number} straddles", fiche.straddles.text
            if fiche.straddles.after_text:
                yield f"fiche {number} straddles.after_text", fiche.straddles.after_text
        for i, text in enumerate(fiche.alongside.text if fiche.alongside else ()):
            yield f"fiche {number} alongside.text[{i}]", text
    yield "guide general_conditions", kb.guide.general_conditions.text
    for cls in kb.size_classes:
        yield f"guide size_classes.{cls.code}", cls.text
    for i, caveat in enumerate(kb.guide.caveats):
        yield f"guide caveats[{i}]", caveat.text


def validate(kb: Knowledge, guide_path: str | None = None) -> Report:
    report = Report()
    report.checks.append({"check": "schema", "figures": {
        "fiches": len(kb.fiches), "conditions": sum(len(c) for c in kb.conditions.values()),
        "tests": len(kb.tests()), "version": kb.version}})
    ids = fact_ids(kb)
    check_fact_ids(ids)
    report.checks.append({"check": "fact_ids", "figures": {"ids": len(ids)}})
    report.checks.append({"check": "graph", "figures": {"edges": kb.graph.fiche_order.number_of_edges()}})
    if guide_path is not None and not Path(guide_path).is_file():
        raise InputError(Phrase("tools.no_guide"), file=guide_path, key="--guide")
    path = find_guide(guide_path)
    if path is None:
        report.checks.append({"check": "citations_skipped", "figures": {}})
    else:
        guide = GuideText.load(path)
        count = 0
        for where, text in _quotations(kb):
            count += 1
            if not guide.contains(text):
                report.errors.append({"where": where, "text": text[:90]})
        report.checks.append({"check": "citations", "figures": {"count": count, "path": str(path)}})
    report.findings.extend(guide_anomalies(kb.fiches))
    for number, fiche in kb.fiches.items():
        if fiche.type == "investment":
            for condition in kb.conditions[number]:
                for test in condition.tests:
                    if test.fact == "recommendations" and test.value == "tic_coaching":
                        report.findings.append(PlanWarning("investment_with_coaching_domain", number,
                                                           {"condition": condition.id}))
    for number, conditions in kb.conditions.items():
        grouped: dict[str, list[str]] = {}
        for condition in conditions:
            if condition.interpretation and condition.clause not in ("general.general_conditions", "general.size_class"):
                grouped.setdefault(condition.interpretation, []).append(condition.id)
        for text, ids in grouped.items():
            report.interpretations.append((", ".join(ids), text))
        for note in kb.fiche(number).interpretations:
            report.interpretations.append((f"f{number}", note))
    for rule in kb.implications:
        report.interpretations.append((rule.id, rule.interpretation))
    report.interpretations.append(("general.size_class", kb.guide.size_classes.interpretation))
    report.interpretations.append(("general.general_conditions", kb.guide.general_conditions.interpretation))
    report.editions = edition_checks(kb)
    return report


def edition_checks(kb: Knowledge) -> list[dict]:
    """Every edition of the guide (knowledge/editions/), applied to the base and checked like
    it: what its figures make of the guide's arithmetic. A table an edition leaves not adding
    up (a line changed, not its total) is an error; another new oddity (ranges that overlap)
    is a finding; what the printed guide itself gets wrong is the base's, not the edition's.
    A file that cannot be read or applied is `broken` (its message names file and key); one
    with a value out of range (a figure above 10¹²) is bad input: ValueOutOfRange goes up
    (exit 2, as in `fiches` and `assess`)."""
    from pnman.knowledge.editions import available, knowledge_for
    base = kb.base or kb
    printed = {w.identity for w in guide_anomalies(base.fiches)}
    try:
        editions = available(base)
    except ValueOutOfRange:
        raise
    except KnowledgeError as exc:
        return [{"edition": None, "broken": str(exc), "errors": [], "findings": [], "figures": 0}]
    out = []
    for edition in editions.values():
        if edition.path is None:        # the base: checked above
            continue
        entry = {"edition": edition.id, "date_in_force": edition.date_in_force.isoformat(),
                 "reference": edition.reference, "file": edition.path, "broken": None,
                 "errors": [], "findings": [], "figures": 0}
        try:
            edited = knowledge_for(edition.id, base)
        except ValueOutOfRange:
            raise
        except KnowledgeError as exc:
            entry["broken"] = str(exc)
        else:
            entry["figures"] = sum(len(a) for a in edited.amendments.values())
            for anomaly in guide_anomalies(edited.fiches):
                if anomaly.identity not in printed:
                    entry["errors" if anomaly.code == "total_mismatch" else "findings"].append(anomaly)
        out.append(entry)
    return out
