"""A result as Markdown (the interview writes it beside the session), user text escaped.

Reasons are words (the fact and what the guide expects, with the guide's sentence);
condition, rule and warning ids appear only when verbose.
"""
from __future__ import annotations

from .l10n import Words
from .reasons import because_words, common_unknowns, fiche_reasons, no_plan_reasons, shown_reasons, shown_warnings
from .footer import registry_footer
from .safe import plain
from .text import budget_text, flag_legend, goals_text, size_text, step_flags, step_title, totals_text


def md(text: str) -> str:
    """User text for Markdown tables and inline use: no markup of its own, no live link or
    image (`[x](javascript:…)`, `![](tracker)`), no control or direction character."""
    text = plain(text).replace("&", "&amp;")       # « A &lt; B » stays those characters, not « A < B »
    for char in "\\|*_`[]!#~":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _ids(ids) -> str:
    return ", ".join(f"`{md(i)}`" for i in ids if i)


def assessment_markdown(record: dict, w: Words, verbose: bool = False) -> str:
    profile = record["profile"]
    out = [f"# PNMAN – {w.field(w('report.plan'), md(profile.get('name') or '—'))}", "",
           f"- {w.field(w('report.size'), size_text(record, w))}",
           f"- {w.field(w('report.goals'), md(goals_text(record, w)))}",
           f"- {w.field(w('report.knowledge'), '`' + record['knowledge_version'] + '`')}", ""]
    if w.cat.translation:                               # the guide's French alone is authoritative
        out[2:2] = [f"*{md(w('report.translation_note'))}*", ""]
    if record.get("edition") not in (None, "base"):     # a guide edition other than the printed guide
        out.insert(-1, f"- {w.field(w('editions.label'), md(record['edition']))}")
    out += [f"## {w('report.plan')}", ""]
    if not record["plan"]:
        why, items = no_plan_reasons(record, w)
        out.append(md(why))
        if items:
            out.append("")
            out += [f"- {md(item)}" for item in items]
    for step in record["plan"]:
        if step["kind"] == "company_action":
            flags = "".join(f" *({flag})*" for flag in step_flags(step, w))
            line = (f"{step['step']}. {w.field('**' + w('report.company_action') + '**', md(step['label']))} "
                    f"({w.fiche_list('lists.needed_by', step['needed_by'])}){flags}")
            if verbose:
                line += f" — {_ids([step['id'], *step.get('because', [])])}"
            out.append(line)
        else:
            tags = w.join([w.fiche_type(step["type"]), w.status(step["status"]), *step_flags(step, w)])
            out.append(f"{step['step']}. **{step_title(step, w)} – {md(w.fiche_title(step['fiche']))}** "
                       f"({tags}) — {budget_text(step['budget'], w)}  ")
            if step["title"] != w.fiche_title(step["fiche"]):
                out.append(f"   *{w('format.quote', text=md(step['title']))}*  ")
            because = w.join(because_words(step, w))
            if because:
                out.append(f"   {w.field(w('report.because'), md(because))}"
                           + (f" — {_ids(step['because'])}" if verbose else ""))
            elif verbose:
                out.append(f"   {_ids(step['because'])}")
    out += ["", f"**{w('report.totals')}** — {totals_text(record, w)}", ""]
    legend = flag_legend(record["plan"], w)
    if legend:
        out += [f"- *{md(item)}*" for item in legend] + [""]
    out += [f"## {w('report.statuses', count=len(record['fiches']))}", ""]
    common = common_unknowns(record)
    if common:
        out += [md(w("report.unknown_common", facts=w.join(w.fact(f) for f in common))), ""]
    out += [f"| {w('fiche_text.number')} | {w('report.title')} | {w('report.status')} | {w('report.reasons')} |",
            "|---:|---|---|---|"]
    for entry in record["fiches"]:
        cells = [md(reason) for reason in fiche_reasons(entry, w, common)]
        quoted = dict.fromkeys(r["citation"]["text"] for r in shown_reasons(entry))
        cells += [f"*{w('format.quote', text=md(text))}*" for text in quoted]
        if verbose:
            cells.append(_ids([entry["rule"], *(r["condition"] for r in entry["reasons"])]))
        out.append(f"| {entry['fiche']} | {md(w.fiche_title(entry['fiche']))} | {w.status(entry['status'])} | "
                   f"{'<br>'.join(cells)} |")
    warnings = record["warnings"] if verbose else shown_warnings(record)
    if warnings:
        out += ["", f"## {w('report.warnings')}", ""]
        out += [f"- {'`' + x['code'] + '` ' if verbose else ''}{md(x.get('message') or w.warning(x))}"
                for x in warnings]
    footer = registry_footer(record, w)     # the registry entry and chain head, when recorded
    if footer:
        out += ["", "---", "", f"*{md(footer)}*"]
    return "\n".join(out) + "\n"
