"""Results and fiches as readable terminal text (rich tables), in the catalogue's words.

Tables fit the terminal: `COLUMNS` when set, the terminal's width, else 80 columns;
cells wrap between words, never inside a figure (« 2 400 000 DA HT » holds together).
Condition, rule and warning ids stay in the record: the text shows them only when asked
(`verbose`, the commands' --verbose).
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import textwrap

from rich import box
from rich.console import Console
from rich.table import Table

from pnman.knowledge.loader import Knowledge

from .l10n import Words, implied_words
from .reasons import common_unknowns, fiche_reasons, no_plan_reasons, shown_warnings
from .footer import registry_footer
from .safe import plain

# Joins the parts of one figure while rich or textwrap lay the lines out (neither breaks
# a line there: it is not whitespace); a space again in the output. User text cannot
# carry it: plain() escapes private-use characters.
GLUE = "\ue000"


def keep(text: str) -> str:
    """The text with no line break before « : ; ! ? » or a closing guillemet, nor after an
    opening one (French spacing puts a space there)."""
    for before in (" :", " ;", " !", " ?", " »"):
        text = text.replace(before, GLUE + before[1:])
    return text.replace("« ", "«" + GLUE)


def console_width() -> int:
    """The width text is laid out for: $COLUMNS, else the terminal's, else 80."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 20)
    try:
        if sys.stdout is not None and sys.stdout.isatty():
            return max(shutil.get_terminal_size((80, 24)).columns, 20)
    except (AttributeError, ValueError, OSError):
        pass
    return 80


def budget_text(budget: dict, w: Words) -> str:
    """A one-line summary of a plan step's budget."""
    if "total_da_ht" in budget:
        text = w.da(budget["total_da_ht"])
        if budget.get("lines_sum_da_ht") not in (None, budget["total_da_ht"]):
            text += w("format.lines_sum", amount=w.da(budget["lines_sum_da_ht"]))
        return text
    if "days" in budget:
        text = w.days(budget["days"])
        if budget.get("tolerance"):
            text += w.tolerance(budget["tolerance"])
        if budget.get("assumed_from"):
            text += w("format.assumed_from", size=budget["assumed_from"])
        return text
    if "min_da_ht" in budget:
        return w.da_range(budget["min_da_ht"], budget["max_da_ht"])
    if "min_days" in budget:
        text = w.days_range(budget["min_days"], budget["max_days"])
        if budget.get("per_expert") and budget.get("experts", 1) > 1:
            text += w("format.experts", experts=w.count("counts.experts", budget["experts"]))
        return text
    return "—"


def step_flags(step: dict, w: Words) -> list[str]:
    """What a person must know about a step beyond its status: optional, to confirm, going on
    during its acquisition."""
    flags = [w(f"plan.{flag}") for flag in ("optional", "to_confirm") if step.get(flag)]
    if step.get("runs_alongside") is not None:
        flags.append(w("plan.alongside", fiche=step["runs_alongside"]))
    return flags


def flag_legend(plan: list[dict], w: Words) -> list[str]:
    """What the flags the plan shows mean (« facultative : hors du minimum des totaux… »)."""
    legend = [w.field(w(f"plan.{flag}"), w(f"plan.{flag}_help")) for flag in ("optional", "to_confirm")
              if any(step.get(flag) for step in plan)]
    if any(step.get("runs_alongside") is not None for step in plan):
        legend.append(w.field(w("plan.alongside_term"), w("plan.alongside_help")))
    return legend


def step_title(step: dict, w: Words) -> str:
    part = f" ({w.part(step['part'])})" if step.get("part") else ""
    return f"{w('report.fiche')} {step['fiche']}{part}"


def capture(render, width: int | None = None) -> str:
    buffer = io.StringIO()
    con = Console(file=buffer, width=width or console_width(), color_system=None, highlight=False,
                  soft_wrap=False, emoji=False, markup=False)
    con.render_str = _keeping(con.render_str)
    render(con)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().replace(GLUE, " ").splitlines())


def _keeping(render_str):
    """Console.render_str (every str a table cell or a print turns into text) with keep()."""
    def wrapped(text, *args, **kwargs):
        return render_str(keep(text), *args, **kwargs)
    return wrapped


def totals_text(record: dict, w: Words) -> str:
    inv, days = record["totals"]["investment_da_ht"], record["totals"]["coaching_days"]
    return w("format.separator").join((w.field(w("report.investment"), w.da_range(inv["min"], inv["max"])),
                                        w.field(w("report.days"), w.days_range(days["min"], days["max"]))))


def size_text(record: dict, w: Words) -> str:
    """« PE (32 personnes) », or none with the guide's range."""
    size = record["size_class"] or w("report.none", range=w.size_range(), count=w.size_range_end())
    employees = record["profile"].get("employees")
    return f"{size} ({w.count('counts.people', employees)})" if isinstance(employees, int) else size


def goals_text(record: dict, w: Words) -> str:
    profile = record["profile"]
    text = w.join(w.goal(g) for g in profile.get("goals") or []) or "—"
    if profile.get("fiches"):
        text += w("format.separator") + w.fiche_list("lists.fiches_requested", profile["fiches"])
    return text


def verbose_ids(ids) -> str:
    """Ids for an auditor, as they are in the record: « [f2.prerequisite.specs_gpao, …] »."""
    ids = [str(i) for i in ids if i]
    return f"[{', '.join(ids)}]" if ids else ""


def _bullets(con: Console, items: list[str], mark: str = "•") -> None:
    """A list whose lines wrap under their text, not under the bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for item in items:
        grid.add_row(f"  {mark}", item)
    con.print(grid)


def assessment_text(record: dict, w: Words, verbose: bool = False, width: int | None = None) -> str:
    """The localised record as terminal text: statuses, plan with budgets, totals, warnings."""
    w = w.glued(GLUE)

    def render(con: Console):
        name = plain(record["profile"].get("name") or "—")
        if w.cat.translation:                           # the guide's French alone is authoritative
            con.print(w("report.translation_note"))
            con.print()
        con.print(w.field(w("report.company"), name))
        con.print(w.field(w("report.size"), size_text(record, w)))
        con.print(w.field(w("report.goals"), goals_text(record, w)))
        con.print()
        common = common_unknowns(record)
        if common:
            con.print(w("report.unknown_common", facts=w.join(w.fact(f) for f in common)))
        table = Table(title=w("report.statuses", count=len(record["fiches"])), box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column(w("fiche_text.number"), justify="right", no_wrap=True)
        table.add_column(w("report.title"))
        table.add_column(w("report.status"), no_wrap=True)
        table.add_column(w("report.reasons"), ratio=1)
        for entry in record["fiches"]:
            reasons = w("report.reason.separator").join(fiche_reasons(entry, w, common))
            if verbose:
                shown = [r["condition"] for r in entry["reasons"]]
                reasons = "\n".join(x for x in (reasons, verbose_ids([entry["rule"], *shown])) if x)
            table.add_row(str(entry["fiche"]), w.fiche_title(entry["fiche"]), w.status(entry["status"]), reasons)
        con.print(table)
        if not record["plan"]:
            why, items = no_plan_reasons(record, w)
            con.print(why)
            if items:
                _bullets(con, items)
        else:
            plan = Table(title=w("report.plan"), show_lines=True)
            plan.add_column(w("report.step"), justify="right", no_wrap=True)
            plan.add_column(w("report.action"), ratio=1)
            plan.add_column(w("report.budget"))
            for step in record["plan"]:
                if step["kind"] == "company_action":
                    flags = "".join(f" [{flag}]" for flag in step_flags(step, w))
                    text = (w.field(w("report.company_action"), plain(step["label"]))
                            + f" ({w.fiche_list('lists.needed_by', step['needed_by'])}){flags}")
                    ids = [step["id"], *step.get("because", [])]
                    budget = "—"
                else:
                    tags = w.join([w.fiche_type(step["type"]), w.status(step["status"]), *step_flags(step, w)])
                    text = w.field(step_title(step, w), w.fiche_title(step["fiche"])) + f" [{tags}]"
                    ids = step.get("because", [])
                    budget = budget_text(step["budget"], w)
                if verbose:
                    text += "\n" + verbose_ids(ids)
                plan.add_row(str(step["step"]), text, budget)
            con.print(plan)
            con.print(f"{w('report.totals')} — {totals_text(record, w)}")
            legend = flag_legend(record["plan"], w)
            if legend:
                _bullets(con, legend, mark="·")
        warnings = record["warnings"] if verbose else shown_warnings(record)
        if warnings:
            con.print()
            con.print(w("report.warnings"))
            _bullets(con, [(f"[{x['code']}] " if verbose else "") + plain(x.get("message") or w.warning(x))
                           for x in warnings])
        con.print()
        con.print(w.field(w("report.knowledge"), record["knowledge_version"]))
        if record.get("edition") not in (None, "base"):     # a guide edition other than the printed guide
            con.print(w.field(w("editions.label"), record["edition"]))
        footer = registry_footer(record, w)     # the registry entry and chain head, when recorded
        if footer:
            con.print(footer)
    return capture(render, width)


def _wrap(line: str, width: int) -> list[str]:
    """A line wrapped at spaces (never inside a figure), continued under its text."""
    stripped = line.lstrip(" ")
    indent = " " * (len(line) - len(stripped))
    bullet = stripped[:2] if stripped[:2] in ("• ", "✔ ", "✘ ", "? ") else ""
    return textwrap.wrap(line, width=max(width, 20), initial_indent="", subsequent_indent=indent + " " * len(bullet),
                         break_long_words=False, break_on_hyphens=False, drop_whitespace=True) or [""]


def _actual(record: dict, fact: str):
    """A fact's value for the company (stated or implied) and the implication it came from."""
    if fact in record["profile"]:
        return record["profile"][fact], None
    known = record.get("facts", {}).get(fact)
    if known is None:
        return None, None
    return known["value"], (None if known["source"] == "profile" else known["source"])


def _expected(test, w: Words) -> str:
    if test.op == "eq":
        return w.fact_value(test.fact, test.value)
    if test.op == "contains":
        return w("check.expect.contains", value=w.cat.get(f"choices.{test.fact}.{test.value}", str(test.value)))
    if test.op == "max":
        return w("check.expect.max", max=w.number(test.value))
    if test.op == "size":
        return w("check.expect.size", range=w.size_range(), count=w.size_range_end())
    return str(test.value)


def check_text(record: dict, fiche_number: int, w: Words, verbose: bool = False, width: int | None = None) -> str:
    """Every condition of one fiche: met / not met / unknown, the facts in words, the
    guide's sentence; ids (conditions, rules, implications) only when verbose."""
    w = w.glued(GLUE)
    width = width or console_width()
    kb = w.kb
    entry = next(e for e in record["fiches"] if e["fiche"] == fiche_number)
    conditions = {c.id: c for c in kb.conditions[fiche_number]}
    rule = f"  ({entry['rule']})" if verbose else ""
    out = [w("check.heading", fiche=fiche_number, title=kb.fiche(fiche_number).title),
           w("check.status", status=w.status(entry["status"]), rule=rule)]
    out += [f"  {reason}" for reason in fiche_reasons(entry, w)]
    out.append("")
    for c in entry["conditions"]:
        condition = conditions[c["id"]]
        mark = {"met": "✔", "failed": "✘", "unknown": "?"}[c["outcome"]]
        ids = f"  {verbose_ids([c['id'], *c.get('rules', [])])}" if verbose else ""
        out.append(w("check.line", mark=mark, kind=w(f"check.kinds.{c['kind']}"),
                     outcome=w(f"check.outcomes.{c['kind']}.{c['outcome']}"), ids=ids))
        for test in condition.tests:
            value, source = _actual(record, test.fact)
            if test.op == "size":
                shown = (w("check.headcount", people=w.count("counts.people", value)) if isinstance(value, int)
                         and not isinstance(value, bool) else w.fact_value(test.fact, value))
            else:
                shown = w.fact_value(test.fact, value)
            implied = ""
            if source:
                implied = w("check.implied_by", rule=source if verbose else implied_words(w, source))
            line = w("check.fact", fact=w.fact(test.fact), value=shown) + implied
            if c["outcome"] != "met":
                line += w("check.expected", value=_expected(test, w))
            out.append("    " + line)
        out.append("    " + w.citation(condition.citation.as_dict()))
        if condition.interpretation:
            out.append("    " + w("check.interpretation", text=w.interpretation(condition.interpretation)))
    for citation in kb.intents[fiche_number]:
        out.append(w("check.intent", text=citation.text))
    lines = [wrapped for line in out for wrapped in _wrap(keep(line), width)]
    return "\n".join(lines).replace(GLUE, " ") + "\n"


def fiche_text(kb: Knowledge, number: int, w: Words, size: str | None = None, width: int | None = None) -> str:
    """One fiche in full, in the guide's order and words, wrapped to the terminal."""
    w = w.glued(GLUE)
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
                tolerance = w.tolerance(d.tolerance) if d.tolerance else ""
                out.append(f"  {w(name)} {code} : {w.days(d.days)}{tolerance}  ({w('format.quote', text=d.text)})")
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
        out.extend(f"  • {w.interpretation(note)}" for note in f.interpretations)
    width = width or console_width()
    return "\n".join(wrapped for line in out for wrapped in _wrap(keep(line), width)).replace(GLUE, " ") + "\n"


def fiches_list_text(kb: Knowledge, w: Words) -> str:
    def render(con: Console):
        table = Table(title=w("fiche_text.list_title", count=len(kb.fiches)))
        table.add_column(w("fiche_text.number"), justify="right")
        table.add_column(w("report.axis"))
        table.add_column(w("report.type"))
        table.add_column(w("report.title"))
        for number, f in kb.fiches.items():
            table.add_row(str(number), str(f.axis), w.fiche_type(f.type), f.title)
        con.print(table)
    return capture(render)
