"""Render results and fiches as readable text (rich) and Markdown. French first, English on request."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.knowledge import Knowledge

STATUS = {
    "fr": {"eligible": "éligible", "conditional": "conditionnelle", "ineligible": "inéligible", "unknown": "inconnu"},
    "en": {"eligible": "eligible", "conditional": "conditional", "ineligible": "ineligible", "unknown": "unknown"},
}
OUTCOME = {
    "fr": {"met": "rempli", "failed": "non rempli", "unknown": "inconnu"},
    "en": {"met": "met", "failed": "not met", "unknown": "unknown"},
}
WORDS = {
    "fr": {"company": "Entreprise", "size": "Classe de taille", "none": "aucune (hors 5–250 personnes)",
           "statuses": "Statut des 27 fiches", "plan": "Plan d’action", "step": "Étape", "action": "Action",
           "budget": "Budget", "totals": "Totaux", "investment": "Investissement (plafonds)",
           "days": "Accompagnement (jours)", "warnings": "Avertissements", "fiche": "Fiche",
           "status": "Statut", "reasons": "Raisons", "company_action": "Action de l’entreprise",
           "needed_by": "requise par la fiche", "no_plan": "Aucun objectif ou aucune fiche demandée accessible : pas de plan.",
           "title": "Titre", "axis": "Axe", "type": "Type", "conditions": "Conditions", "because": "parce que",
           "unknown_facts": "Faits inconnus", "knowledge": "Version de la base de connaissances"},
    "en": {"company": "Company", "size": "Size class", "none": "none (outside 5–250 people)",
           "statuses": "Status of the 27 fiches", "plan": "Action plan", "step": "Step", "action": "Action",
           "budget": "Budget", "totals": "Totals", "investment": "Investment (ceilings)",
           "days": "Coaching (days)", "warnings": "Warnings", "fiche": "Fiche",
           "status": "Status", "reasons": "Reasons", "company_action": "Company action",
           "needed_by": "needed by fiche", "no_plan": "No goal or requested fiche is accessible: no plan.",
           "title": "Title", "axis": "Axis", "type": "Type", "conditions": "Conditions", "because": "because",
           "unknown_facts": "Unknown facts", "knowledge": "Knowledge version"},
}
TYPE = {"fr": {"investment": "investissement", "coaching": "accompagnement"},
        "en": {"investment": "investment", "coaching": "coaching"}}


def da(amount: int) -> str:
    return f"{amount:,}".replace(",", " ") + " DA HT"


def budget_text(budget: dict, lang: str = "fr") -> str:
    """A one-line summary of a plan step's budget."""
    if "total_da_ht" in budget:
        text = da(budget["total_da_ht"])
        if budget.get("lines_sum_da_ht") not in (None, budget["total_da_ht"]):
            sep = "somme des lignes" if lang == "fr" else "sum of lines"
            text += f" ({sep} {da(budget['lines_sum_da_ht'])})"
        return text
    if "days" in budget:
        unit = "h/j"
        text = f"{budget['days']} {unit}" + (f" ± {budget['tolerance']} j" if budget.get("tolerance") else "")
        if budget.get("assumed_from"):
            text += f" (chiffre {budget['assumed_from']})" if lang == "fr" else f" ({budget['assumed_from']} figure)"
        return text
    if "min_da_ht" in budget:
        return f"{da(budget['min_da_ht'])} – {da(budget['max_da_ht'])}"
    if "min_days" in budget:
        text = f"{budget['min_days']} – {budget['max_days']} h/j"
        if budget.get("per_expert") and budget.get("experts", 1) > 1:
            text += f" ({budget['experts']} experts)"
        return text
    return "—"


def _capture(render) -> str:
    buffer = io.StringIO()
    con = Console(file=buffer, width=120, color_system=None, highlight=False, soft_wrap=False)
    render(con)
    return buffer.getvalue()


def assessment_text(result: dict, kb: Knowledge, lang: str = "fr") -> str:
    w, st = WORDS[lang], STATUS[lang]

    def render(con: Console):
        profile = result["profile"]
        con.print(f"[bold]{w['company']}[/bold] : {escape(str(profile.get('name') or '—'))}  ·  "
                  f"{w['size']} : {result['size_class'] or w['none']}  ·  {w['knowledge']} : {result['knowledge_version']}",
                  markup=True)
        table = Table(title=w["statuses"], show_lines=False)
        table.add_column(w["fiche"], justify="right")
        table.add_column(w["title"])
        table.add_column(w["status"])
        table.add_column(w["reasons"])
        for entry in result["fiches"]:
            fiche = kb.fiche(entry["fiche"])
            reasons = ", ".join(r["condition"] for r in entry["reasons"] if r["outcome"] == "failed"
                                and r["kind"] == "eligibility")
            if not reasons and entry["unknown_facts"]:
                reasons = "? " + ", ".join(entry["unknown_facts"])
            elif not reasons:
                reasons = ", ".join(r["fact"] for r in entry["reasons"])
            table.add_row(str(entry["fiche"]), fiche.title[:60], st[entry["status"]], reasons[:70])
        con.print(table)
        if not result["plan"]:
            con.print(w["no_plan"])
        else:
            plan = Table(title=w["plan"])
            plan.add_column(w["step"], justify="right")
            plan.add_column(w["action"])
            plan.add_column(w["budget"])
            for step in result["plan"]:
                if step["kind"] == "company_action":
                    plan.add_row(str(step["step"]), f"{w['company_action']} : {step['label']} "
                                 f"({w['needed_by']} {', '.join(map(str, step['needed_by']))})", "—")
                else:
                    part = {"preparation": " (préparation)" if lang == "fr" else " (preparation)",
                            "post_erp": " (Post-ERP)"}.get(step.get("part"), "")
                    plan.add_row(str(step["step"]), f"{w['fiche']} {step['fiche']}{part} : {step['title']} "
                                 f"[{TYPE[lang][step['type']]}, {st[step['status']]}]",
                                 budget_text(step["budget"], lang))
            con.print(plan)
            totals = result["totals"]
            inv, days = totals["investment_da_ht"], totals["coaching_days"]
            con.print(f"[bold]{w['totals']}[/bold] — {w['investment']} : {da(inv['min'])} – {da(inv['max'])} ; "
                      f"{w['days']} : {days['min']} – {days['max']} h/j", markup=True)
        if result["warnings"]:
            con.print(f"[bold]{w['warnings']}[/bold]", markup=True)
            for warning in result["warnings"]:
                con.print(f"  • [{warning['code']}] {warning['message']}", markup=False)
    return _capture(render)


def check_text(result: dict, fiche_number: int, kb: Knowledge, lang: str = "fr") -> str:
    """Every condition of one fiche: met / not met / unknown, with the guide's sentence."""
    w, st, oc = WORDS[lang], STATUS[lang], OUTCOME[lang]
    entry = next(e for e in result["fiches"] if e["fiche"] == fiche_number)
    fiche = kb.fiche(fiche_number)
    conditions = {c.id: c for c in kb.conditions[fiche_number]}
    reasons = {r["condition"]: r for r in entry["reasons"]}
    out = [f"{w['fiche']} {fiche_number} : {fiche.title}",
           f"{w['status']} : {st[entry['status']]}  ({entry['rule']})", ""]
    facts = result.get("facts", {})
    for c in entry["conditions"]:
        condition = conditions[c["id"]]
        mark = {"met": "✔", "failed": "✘", "unknown": "?"}[c["outcome"]]
        out.append(f"{mark} {c['id']} [{c['kind']}] — {oc[c['outcome']]}")
        reason = reasons.get(c["id"])
        shown = []
        for fact in condition.facts:
            known = facts.get(fact) if fact != "recommendations" else None
            if fact == "recommendations":
                value = result["profile"].get("recommendations")
                shown.append(f"{fact} = {_json(value) if value is not None else '?'}")
            elif known is None:
                shown.append(f"{fact} = ?")
            else:
                source = "" if known["source"] == "profile" else (
                    f" (déduit par {known['source']})" if lang == "fr" else f" (implied by {known['source']})")
                shown.append(f"{fact} = {_json(known['value'])}{source}")
        expected = (f" ; attendu {_json(reason['expected'])}" if lang == "fr" else f"; expected {_json(reason['expected'])}") \
            if reason else ""
        out.append("    " + ", ".join(shown) + expected)
        out.append(f"    « {condition.citation.text} » (fiche {condition.citation.fiche}, {condition.citation.section})")
        if condition.interpretation:
            out.append(f"    interprétation : {condition.interpretation}" if lang == "fr"
                       else f"    interpretation: {condition.interpretation}")
    for citation in kb.intents[fiche_number]:
        out.append(f"• intention (satisfaite par les objectifs) : « {citation.text} »" if lang == "fr"
                   else f"• intent (met by the goals): « {citation.text} »")
    return "\n".join(out) + "\n"


def _json(value) -> str:
    import json
    return json.dumps(value, ensure_ascii=False)


def fiche_text(kb: Knowledge, number: int, size: str | None = None) -> str:
    """One fiche in full, in the guide's order and words."""
    f = kb.fiche(number)
    out = [f"Fiche n° {f.fiche} : {f.title}",
           f"Axe {f.axis} – {kb.guide['axes'][f.axis]} · {TYPE['fr'][f.type]}", ""]

    def bullets(title, items):
        if items:
            out.append(title)
            out.extend(f"  • {item}" for item in items)
            out.append("")
    bullets("Objectifs", f.objectives)
    bullets("Résultats attendus", f.expected_results)
    bullets("Population cible", [e.text for e in f.population])
    bullets("Pré-requis", [e.text for e in f.prerequisites])
    out.append(f"Conditions générales : {kb.guide['general_conditions']['text']}")
    out.append("")
    if f.activities:
        out.append("Activités")
        if f.activities.intro:
            out.append(f"  {f.activities.intro}")
        for step in f.activities.steps:
            out.append(f"  {step.title}")
            out.extend(f"    • {item}" for item in step.items)
        out.append("")
    for expert in f.experts:
        out.append(f"Profil de l’expert{' – ' + expert.role if expert.role else ''}")
        out.extend(f"  • {q}" for q in expert.qualification)
        out.append(f"  • Expérience générale : {expert.general_experience}")
        out.extend(f"  • Expérience spécifique : {s}" for s in expert.specific_experience)
        out.append("")
    out.append("Budget" + (f" (classe {size})" if size else ""))
    b = f.budget
    for text in b.text:
        out.append(f"  {text}")
    for code, table in (b.by_size or {}).items():
        if size and code != size:
            continue
        out.append(f"  {code} :")
        for line in table.lines:
            out.append(f"    {line.category} : {line.description} — {da(line.amount_da_ht)}")
        total = f"    Total imprimé : {da(table.total_da_ht)}"
        if table.total_da_ht != table.lines_sum:
            total += f"  ⚠ somme des lignes : {da(table.lines_sum)}"
        out.append(total)
    for name, table in (("Jours", b.days), ("Jours Post-ERP", b.post_erp_days)):
        if table:
            for code in ("TPE", "PE", "ME"):
                if size and code != size:
                    continue
                if code in table:
                    d = table[code]
                    out.append(f"  {name} {code} : {d.days} h/j" + (f" ± {d.tolerance} j" if d.tolerance else "")
                               + f"  (« {d.text} »)")
                else:
                    out.append(f"  {name} {code} : aucun chiffre imprimé dans le guide")
    for option in b.options or []:
        out.append(f"  Option « {option.label} » ({option.sizes}) : {da(option.min_da_ht)} – {da(option.max_da_ht)}")
    for option in b.day_options or []:
        out.append(f"  {option.label} : {option.min_days} – {option.max_days} h/j"
                   + (" par expert" if b.per_expert else ""))
    if b.workstation_limit:
        lim = b.workstation_limit
        out.append(f"  Limite : TPE {lim.TPE}, PE {lim.PE}, ME {lim.ME} ordinateurs (« {lim.text} »)")
    if f.interpretations:
        out.append("")
        out.append("Interprétations")
        out.extend(f"  • {note}" for note in f.interpretations)
    return "\n".join(out) + "\n"


def fiches_list_text(kb: Knowledge) -> str:
    def render(con: Console):
        table = Table(title="PNMAN – guide n° 4 : les 27 fiches")
        table.add_column("N°", justify="right")
        table.add_column("Axe")
        table.add_column("Type")
        table.add_column("Titre")
        for number, f in kb.fiches.items():
            table.add_row(str(number), str(f.axis), TYPE["fr"][f.type], f.title)
        con.print(table)
    return _capture(render)


def assessment_markdown(result: dict, kb: Knowledge, lang: str = "fr") -> str:
    w, st = WORDS[lang], STATUS[lang]
    profile = result["profile"]
    out = [f"# PNMAN – {w['plan']} : {md(profile.get('name') or '—')}", "",
           f"- {w['size']} : {result['size_class'] or w['none']}",
           f"- {w['knowledge']} : `{result['knowledge_version']}`", ""]
    out += [f"## {w['plan']}", ""]
    if not result["plan"]:
        out.append(w["no_plan"])
    for step in result["plan"]:
        if step["kind"] == "company_action":
            out.append(f"{step['step']}. **{w['company_action']}** : {md(step['label'])} "
                       f"({w['needed_by']} {', '.join(map(str, step['needed_by']))})")
        else:
            part = {"preparation": " (préparation)", "post_erp": " (Post-ERP)"}.get(step.get("part"), "")
            out.append(f"{step['step']}. **{w['fiche']} {step['fiche']}{part}** – {md(step['title'])} "
                       f"({TYPE[lang][step['type']]}, {st[step['status']]}) — {budget_text(step['budget'], lang)}")
    totals = result["totals"]
    out += ["", f"**{w['totals']}** — {w['investment']} : {da(totals['investment_da_ht']['min'])} – "
            f"{da(totals['investment_da_ht']['max'])} ; {w['days']} : {totals['coaching_days']['min']} – "
            f"{totals['coaching_days']['max']} h/j", ""]
    out += [f"## {w['statuses']}", "", f"| {w['fiche']} | {w['title']} | {w['status']} | {w['reasons']} |",
            "|---:|---|---|---|"]
    for entry in result["fiches"]:
        reasons = "<br>".join(f"`{r['condition']}` ({OUTCOME[lang][r['outcome']]}) : « {md(r['citation']['text'])} »"
                              for r in entry["reasons"])
        out.append(f"| {entry['fiche']} | {md(kb.fiche(entry['fiche']).title)} | {st[entry['status']]} | {reasons} |")
    if result["warnings"]:
        out += ["", f"## {w['warnings']}", ""]
        out += [f"- `{x['code']}` {md(x['message'])}" for x in result["warnings"]]
    return "\n".join(out) + "\n"


def md(text: str) -> str:
    """Escape user text for Markdown tables and inline use."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("`", "\\`").replace("\n", " "))
