"""A result as Markdown (the interview writes it beside the session), user text escaped."""
from __future__ import annotations

from .l10n import Words
from .safe import plain
from .text import budget_text, step_flags, step_title, totals_text


def md(text: str) -> str:
    """User text for Markdown tables and inline use: no markup of its own, no live link or
    image (`[x](javascript:…)`, `![](tracker)`), no control or direction character."""
    text = plain(text)
    for char in "\\|*_`[]!#~":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def assessment_markdown(record: dict, w: Words) -> str:
    kb = w.kb
    profile = record["profile"]
    out = [f"# PNMAN – {w('report.plan')} : {md(profile.get('name') or '—')}", "",
           f"- {w('report.size')} : {record['size_class'] or w('report.none', range=w.size_range())}",
           f"- {w('report.knowledge')} : `{record['knowledge_version']}`", ""]
    out += [f"## {w('report.plan')}", ""]
    if not record["plan"]:
        out.append(w("report.no_plan"))
    for step in record["plan"]:
        if step["kind"] == "company_action":
            flags = "".join(f" *({flag})*" for flag in step_flags(step, w))
            out.append(f"{step['step']}. **{w('report.company_action')}** : {md(step['label'])} "
                       f"({w('report.needed_by')} {w.join(step['needed_by'])}){flags}")
        else:
            tags = w.join([w.fiche_type(step["type"]), w.status(step["status"]), *step_flags(step, w)])
            out.append(f"{step['step']}. **{step_title(step, w)}** – {md(step['title'])} "
                       f"({tags}) — {budget_text(step['budget'], w)}")
    out += ["", f"**{w('report.totals')}** — {totals_text(record, w)}", ""]
    out += [f"## {w('report.statuses', count=len(record['fiches']))}", "",
            f"| {w('report.fiche')} | {w('report.title')} | {w('report.status')} | {w('report.reasons')} |",
            "|---:|---|---|---|"]
    for entry in record["fiches"]:
        reasons = "<br>".join(f"`{r['condition']}` ({w.outcome(r['outcome'])}) : « {md(r['citation']['text'])} »"
                              for r in entry["reasons"])
        out.append(f"| {entry['fiche']} | {md(kb.fiche(entry['fiche']).title)} | {w.status(entry['status'])} | {reasons} |")
    if record["warnings"]:
        out += ["", f"## {w('report.warnings')}", ""]
        out += [f"- `{x['code']}` {md(x['message'])}" for x in record["warnings"]]
    return "\n".join(out) + "\n"
