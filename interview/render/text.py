"""Results and fiches as readable terminal text (rich tables), in the catalogue's words."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from knowledge.loader import Knowledge

from .l10n import Words
from .safe import plain


def budget_text(budget: dict, w: Words) -> str:
    """A one-line summary of a plan step's budget."""
    if "total_da_ht" in budget:
        text = w.da(budget["total_da_ht"])
        if budget.get("lines_sum_da_ht") not in (None, budget["total_da_ht"]):
            text += w("format.lines_sum", amount=w.da(budget["lines_sum_da_ht"]))
        return text
    if "days" in budget:
        text = w("format.days", days=budget["days"])
        if budget.get("tolerance"):
            text += w("format.tolerance", tolerance=budget["tolerance"])
        if budget.get("assumed_from"):
            text += w("format.assumed_from", size=budget["assumed_from"])
        return text
    if "min_da_ht" in budget:
        return w.da_range(budget["min_da_ht"], budget["max_da_ht"])
    if "min_days" in budget:
        text = w.days_range(budget["min_days"], budget["max_days"])
        if budget.get("per_expert") and budget.get("experts", 1) > 1:
            text += w("format.experts", n=budget["experts"])
        return text
    return "—"


def step_flags(step: dict, w: Words) -> list[str]:
    """What a person must know about a step beyond its status: optional, to confirm."""
    return [w(f"plan.{flag}") for flag in ("optional", "to_confirm") if step.get(flag)]


def step_title(step: dict, w: Words) -> str:
    part = f" ({w.part(step['part'])})" if step.get("part") else ""
    return f"{w('report.fiche')} {step['fiche']}{part}"


def capture(render, width: int = 120) -> str:
    buffer = io.StringIO()
    con = Console(file=buffer, width=width, color_system=None, highlight=False, soft_wrap=False)
    render(con)
    return buffer.getvalue()


def totals_text(record: dict, w: Words) -> str:
    inv, days = record["totals"]["investment_da_ht"], record["totals"]["coaching_days"]
    return (f"{w('report.investment')} : {w.da_range(inv['min'], inv['max'])} ; "
            f"{w('report.days')} : {w.days_range(days['min'], days['max'])}")


def _reasons(entry: dict) -> str:
    failing = [r["condition"] for r in entry["reasons"] if r["outcome"] == "failed" and r["kind"] == "eligibility"]
    if failing:
        return ", ".join(failing)
    if entry["unknown_facts"]:
        return "? " + ", ".join(entry["unknown_facts"])
    return ", ".join(r["fact"] for r in entry["reasons"])


def assessment_text(record: dict, w: Words) -> str:
    """The localised record as terminal text: statuses, plan with budgets, totals, warnings."""
    kb = w.kb

    def render(con: Console):
        name = escape(plain(record["profile"].get("name") or "—"))
        size = record["size_class"] or w("report.none", range=w.size_range())
        con.print(f"[bold]{w('report.company')}[/bold] : {name}  ·  {w('report.size')} : {size}  ·  "
                  f"{w('report.knowledge')} : {record['knowledge_version']}", markup=True)
        table = Table(title=w("report.statuses", count=len(record["fiches"])), show_lines=False)
        for header, justify in (("report.fiche", "right"), ("report.title", "left"), ("report.status", "left"),
                                ("report.reasons", "left")):
            table.add_column(w(header), justify=justify)
        for entry in record["fiches"]:
            table.add_row(str(entry["fiche"]), escape(kb.fiche(entry["fiche"]).title[:60]), w.status(entry["status"]),
                          escape(_reasons(entry)[:70]))
        con.print(table)
        if not record["plan"]:
            con.print(w("report.no_plan"))
        else:
            plan = Table(title=w("report.plan"))
            plan.add_column(w("report.step"), justify="right")
            plan.add_column(w("report.action"))
            plan.add_column(w("report.budget"))
            for step in record["plan"]:
                if step["kind"] == "company_action":
                    flags = "".join(f" [{flag}]" for flag in step_flags(step, w))
                    plan.add_row(str(step["step"]), escape(f"{w('report.company_action')} : {step['label']} "
                                                           f"({w('report.needed_by')} {w.join(step['needed_by'])}){flags}"), "—")
                else:
                    tags = w.join([w.fiche_type(step["type"]), w.status(step["status"]), *step_flags(step, w)])
                    plan.add_row(str(step["step"]), escape(f"{step_title(step, w)} : {step['title']} [{tags}]"),
                                 escape(budget_text(step["budget"], w)))
            con.print(plan)
            con.print(f"[bold]{w('report.totals')}[/bold] — {totals_text(record, w)}", markup=True)
        if record["warnings"]:
            con.print(f"[bold]{w('report.warnings')}[/bold]", markup=True)
            for warning in record["warnings"]:
                con.print(f"  • [{warning['code']}] {warning['message']}", markup=False)
    return capture(render)


def check_text(record: dict, fiche_number: int, w: Words) -> str:
    """Every condition of one fiche: met / not met / unknown, with the guide's sentence."""
    kb = w.kb
    entry = next(e for e in record["fiches"] if e["fiche"] == fiche_number)
    conditions = {c.id: c for c in kb.conditions[fiche_number]}
    reasons = {r["condition"]: r for r in entry["reasons"]}
    out = [w("check.heading", fiche=fiche_number, title=kb.fiche(fiche_number).title),
           w("check.status", status=w.status(entry["status"]), rule=entry["rule"]), ""]
    facts = record.get("facts", {})
    for c in entry["conditions"]:
        condition = conditions[c["id"]]
        mark = {"met": "✔", "failed": "✘", "unknown": "?"}[c["outcome"]]
        out.append(f"{mark} {c['id']} [{c['kind']}] — {w.outcome(c['outcome'])}")
        shown = []
        for fact in condition.facts:
            if fact == "recommendations":
                value = record["profile"].get("recommendations")
                shown.append(f"{fact} = {w.value(value) if value is not None else '?'}")
                continue
            known = facts.get(fact)
            if known is None:
                shown.append(f"{fact} = ?")
            else:
                source = "" if known["source"] == "profile" else w("check.implied_by", rule=known["source"])
                shown.append(f"{fact} = {w.value(known['value'])}{source}")
        reason = reasons.get(c["id"])
        expected = w("check.expected", value=w.value(reason["expected"])) if reason else ""
        out.append("    " + ", ".join(shown) + expected)
        out.append("    " + w.citation(condition.citation.as_dict()))
        if condition.interpretation:
            out.append("    " + w("check.interpretation", text=condition.interpretation))
    for citation in kb.intents[fiche_number]:
        out.append(w("check.intent", text=citation.text))
    return "\n".join(out) + "\n"


def fiche_text(kb: Knowledge, number: int, w: Words, size: str | None = None) -> str:
    """One fiche in full, in the guide's order and words."""
    f = kb.fiche(number)
    out = [w("fiche_text.heading", fiche=f.fiche, title=f.title),
           w("fiche_text.axis", axis=f.axis, name=kb.guide.axes[f.axis], type=w.fiche_type(f.type)), ""]

    def bullets(title, items):
        if items:
            out.append(w(title))
            out.extend(f"  • {item}" for item in items)
            out.append("")
    bullets("fiche_text.objectives", f.objectives)
    bullets("fiche_text.expected_results", f.expected_results)
    bullets("fiche_text.population", [e.text for e in f.population])
    bullets("fiche_text.prerequisites", [e.text for e in f.prerequisites])
    out.append(w("fiche_text.general_conditions", text=kb.guide.general_conditions.text))
    out.append("")
    if f.activities:
        out.append(w("fiche_text.activities"))
        if f.activities.intro:
            out.append(f"  {f.activities.intro}")
        for step in f.activities.steps:
            out.append(f"  {step.title}")
            out.extend(f"    • {item}" for item in step.items)
        out.append("")
    for expert in f.experts:
        out.append(w("fiche_text.expert", role=f" – {expert.role}" if expert.role else ""))
        out.extend(f"  • {q}" for q in expert.qualification)
        out.append("  • " + w("fiche_text.general_experience", text=expert.general_experience))
        out.extend("  • " + w("fiche_text.specific_experience", text=s) for s in expert.specific_experience)
        out.append("")
    out.append(w("fiche_text.budget_size", size=size) if size else w("fiche_text.budget"))
    b = f.budget
    out.extend(f"  {text}" for text in b.text)
    for code, table in (b.by_size or {}).items():
        if size and code != size:
            continue
        out.append(f"  {code} :")
        for line in table.lines:
            out.append(f"    {line.category} : {line.description} — {w.da(line.amount_da_ht)}")
        total = "    " + w("fiche_text.total_printed", amount=w.da(table.total_da_ht))
        if table.total_da_ht != table.lines_sum:
            total += w("fiche_text.lines_sum", amount=w.da(table.lines_sum))
        out.append(total)
    for name, table in (("fiche_text.days", b.days), ("fiche_text.post_erp_days", b.post_erp_days)):
        for cls in kb.size_classes if table else ():
            code = cls.code
            if size and code != size:
                continue
            if code in table:
                d = table[code]
                tolerance = w("format.tolerance", tolerance=d.tolerance) if d.tolerance else ""
                out.append(f"  {w(name)} {code} : {w('format.days', days=d.days)}{tolerance}  (« {d.text} »)")
            else:
                out.append(f"  {w(name)} {code} : {w('fiche_text.not_printed')}")
    for option in b.options or []:
        sizes = f" ({option.sizes})" if option.sizes else ""
        out.append("  " + w("fiche_text.option", label=option.label, sizes=sizes, low=w.da(option.min_da_ht),
                            high=w.da(option.max_da_ht)))
    for option in b.day_options or []:
        out.append(f"  {option.label} : {w.days_range(option.min_days, option.max_days)}"
                   + (w("format.per_expert") if b.per_expert else ""))
    if b.workstation_limit:
        lim = b.workstation_limit
        out.append("  " + w("fiche_text.limit", TPE=lim.TPE, PE=lim.PE, ME=lim.ME, text=lim.text))
    if f.interpretations:
        out.append("")
        out.append(w("fiche_text.interpretations"))
        out.extend(f"  • {note}" for note in f.interpretations)
    return "\n".join(out) + "\n"


def fiches_list_text(kb: Knowledge, w: Words) -> str:
    def render(con: Console):
        table = Table(title=w("fiche_text.list_title", count=len(kb.fiches)))
        table.add_column(w("fiche_text.number"), justify="right")
        table.add_column(w("report.axis"))
        table.add_column(w("report.type"))
        table.add_column(w("report.title"))
        for number, f in kb.fiches.items():
            table.add_row(str(number), str(f.axis), w.fiche_type(f.type), escape(f.title))
        con.print(table)
    return capture(render)
