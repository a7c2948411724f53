"""Guide editions and their impact, in words: what an edition changes (`pnman fiches
--edition`), what `pnman validate` finds in each, and the report of `pnman impact`."""
from __future__ import annotations

from typing import Any, Iterable

from pnman.knowledge.editions import AMOUNTS, describe
from pnman.knowledge.figures import BY_SIZE, OPTIONS, Amendment, Figure
from pnman.knowledge.loader import BASE_EDITION, Knowledge

from .l10n import Words


def figure_words(w: Words, name: str, label: str | None = None, post_erp: bool = False) -> str:
    """A figure of a budget in words: its name (`amount_da_ht`, `tolerance`…), the line or
    option it belongs to (`label`), the Post-ERP part."""
    text = w.cat.get(f"editions.figures.{name}") or name
    if label:
        text = w("editions.figures.labelled", label=label, figure=text)
    if post_erp:
        text = w("editions.figures.post_erp", figure=text)
    return text


def figure_value(w: Words, name: str, value: Any) -> str:
    if value is None:
        return "—"
    return w.da(value) if name in AMOUNTS else w.number(value)


def _label(kb: Knowledge, fiche: int, figure: Figure) -> str | None:
    """The category of the line, or the label of the option, a figure belongs to."""
    if figure.index is None:
        return None
    budget = kb.fiche(fiche).budget
    if figure.table == BY_SIZE:
        table = (budget.by_size or {}).get(figure.size)
        return table.lines[figure.index].category if table and figure.index < len(table.lines) else None
    items = budget.options if figure.table == OPTIONS else budget.day_options
    return items[figure.index].label if items and figure.index < len(items) else None


def amendment_lines(kb: Knowledge, w: Words, amendments: Iterable[Amendment]) -> list[str]:
    lines = []
    for a in amendments:
        name = a.figure.name
        lines.append(w("editions.change", fiche=a.fiche, size=w("editions.size", size=a.size) if a.size else "",
                       figure=figure_words(w, name, _label(kb, a.fiche, a.figure), a.figure.post_erp),
                       before=figure_value(w, name, a.base), after=figure_value(w, name, a.value)))
        lines.append(w("editions.reference", reference=a.reference))
    return lines


def edition_text(kb: Knowledge, w: Words, number: int | None = None, size: str | None = None) -> str:
    """What the edition of `kb` is and which figures it changes (all, or one fiche's), each
    with the reference of the text that changed it; nothing for the printed guide."""
    if kb.edition == BASE_EDITION:
        return ""
    info = describe(kb)
    out = ["", w("editions.heading", edition=info["edition"], date=info["date_in_force"] or "—",
                 reference=info["reference"] or "—")]
    if info["extends"]:
        out.append(w("editions.extends", edition=info["extends"]))
    if info["note"]:
        out.append(w("editions.note", note=info["note"]))
    amendments = [a for n in sorted(kb.amendments) for a in kb.amendments[n]
                  if (number is None or a.fiche == number) and (size is None or a.size in (None, size))]
    if number is not None and not amendments:
        out.append(w("editions.no_change"))
    else:
        out.append(w("editions.changes", count=len(amendments)))
        out.extend(amendment_lines(kb, w, amendments))
    return "\n".join(out) + "\n"


def validate_lines(editions: list[dict], w: Words) -> list[str]:
    """`pnman validate`'s section on the editions."""
    shown = [e for e in editions if e["edition"] is not None or e["broken"]]
    lines = [w("editions.validate.heading", count=len([e for e in shown if e["edition"]]))]
    if not shown:
        lines.append(w("editions.validate.none"))
    for entry in shown:
        if entry["broken"]:
            lines.append(w("editions.validate.broken", error=entry["broken"]))
            continue
        if entry["errors"]:
            lines.append(w("editions.validate.errors", edition=entry["edition"], date=entry["date_in_force"],
                           count=len(entry["errors"])))
        else:
            lines.append(w("editions.validate.ok", edition=entry["edition"], date=entry["date_in_force"],
                           figures=entry["figures"]))
        lines += [w("editions.validate.error", message=w.finding(f.as_dict())) for f in entry["errors"]]
        lines += [w("editions.validate.finding", message=w.finding(f.as_dict())) for f in entry["findings"]]
    return lines


def validate_json(editions: list[dict], w: Words) -> list[dict]:
    out = []
    for entry in editions:
        data = dict(entry)
        data["errors"] = [dict(f.as_dict(), message=w.finding(f.as_dict())) for f in entry["errors"]]
        data["findings"] = [dict(f.as_dict(), message=w.finding(f.as_dict())) for f in entry["findings"]]
        out.append(data)
    return out


# -- pnman impact ------------------------------------------------------------------------------
def _step_words(w: Words, step: dict) -> str:
    """A plan step of an impact line (its fields: a fiche and its part, or a company action's
    fact), in words."""
    if step.get("fiche") is not None:
        part = f" ({w.part(step['part'])})" if step.get("part") else ""
        return f"{w('report.fiche')} {step['fiche']}{part} — {w.fiche_title(step['fiche'])}"
    fact = step["fact"]
    return w("report.check", label=w.fact(fact)) if step["check_only"] else w.action(fact)


def _totals(w: Words, totals: dict) -> tuple[str, str]:
    inv, days = totals["investment_da_ht"], totals["coaching_days"]
    return w.da_range(inv["min"], inv["max"]), w.days_range(days["min"], days["max"])


def _signed(value, unit) -> str:
    """A difference with its sign: +20 000 DA HT, −3 h/j, 0."""
    if value > 0:
        return "+" + unit(value)
    if value < 0:
        return "−" + unit(-value)
    return unit(0)


def company_lines(line: dict, w: Words) -> list[str]:
    out = [w("impact.company", row=line["row"], name=line.get("name") or w("impact.unnamed"),
             size=line.get("size_class") or w("impact.no_size"))]
    for s in line["statuses"]:
        out.append(w("impact.status", fiche=s["fiche"], before=w.status(s["from"]), after=w.status(s["to"])))
    plan = line["plan"]
    out += [w("impact.added", step=_step_words(w, plan["steps"][k])) for k in plan["added"]]
    out += [w("impact.removed", step=_step_words(w, plan["steps"][k])) for k in plan["removed"]]
    if plan["order_changed"]:
        out.append(w("impact.order"))
    for budget in plan["budgets"]:
        for f in budget["figures"]:
            out.append(w("impact.budget", step=_step_words(w, budget),
                         figure=figure_words(w, f["name"], f.get("label")),
                         before=figure_value(w, f["name"], f["from"]), after=figure_value(w, f["name"], f["to"])))
        for reference in budget["references"]:
            out.append(w("editions.reference", reference=reference))
    before, after = _totals(w, line["totals"]["from"]), _totals(w, line["totals"]["to"])
    if before[0] != after[0]:
        out.append(w("impact.investment", before=before[0], after=after[0]))
    if before[1] != after[1]:
        out.append(w("impact.days", before=before[1], after=after[1]))
    out += [w("impact.warning_added", code=code) for code in line["warnings"]["added"]]
    out += [w("impact.warning_removed", code=code) for code in line["warnings"]["removed"]]
    return out


def summary_lines(summary: dict, w: Words) -> list[str]:
    totals = summary["totals"]
    before, after, change = totals["from"], totals["to"], totals["change"]
    out = [w("impact.summary"),
           w("impact.companies", assessed=summary["assessed"], affected=summary["affected"],
             unchanged=summary["unchanged"], errors=summary["errors"]),
           w("impact.changes", statuses=w.count("counts.companies", summary["status_changes"]),
             plans=w.count("counts.companies", summary["plan_changes"]))]
    if summary["budget_changes_per_fiche"]:
        out.append(w("impact.fiches", list=w.join(w("impact.fiche", fiche=n, count=c)
                                                   for n, c in summary["budget_changes_per_fiche"].items())))
    for key, name in (("investment_da_ht", "impact.total_investment"), ("coaching_days", "impact.total_days")):
        low, high = change[key]["min"], change[key]["max"]
        unit = w.da if key == "investment_da_ht" else w.number
        if key == "investment_da_ht":
            shown = (w.da_range(before[key]["min"], before[key]["max"]), w.da_range(after[key]["min"], after[key]["max"]))
        else:
            shown = (w.days_range(before[key]["min"], before[key]["max"]), w.days_range(after[key]["min"], after[key]["max"]))
        difference = _signed(low, unit) if low == high else \
            w("format.range", low=_signed(low, unit), high=_signed(high, unit))
        out.append(w(name, before=shown[0], after=shown[1], change=difference))
    return out


def impact_text(lines: Iterable[dict], summary: dict, w: Words, before: str, after: str) -> str:
    out = [w("impact.heading", before=before, after=after), ""]
    affected = 0
    for line in lines:
        if line.get("changed"):
            affected += 1
            out += company_lines(line, w)
            out.append("")
    if not affected:
        out += [w("impact.none"), ""]
    out += summary_lines(summary, w)
    return "\n".join(out) + "\n"
