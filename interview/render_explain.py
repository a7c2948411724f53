"""Text rendering of explanations (`pnman explain`) and audit reports (`pnman audit`)."""
from __future__ import annotations

import json

from .render import OUTCOME, STATUS


def _value(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _reason_lines(reason: dict, lang: str) -> list[str]:
    oc = OUTCOME[lang]
    c = reason["citation"]
    rule = reason.get("rule") or ("aucune règle n’a pu décider : fait inconnu" if lang == "fr"
                                  else "no rule could decide: unknown fact")
    lines = [f"  • {reason['condition']} — {oc[reason['outcome']]} (règle {rule})" if lang == "fr"
             else f"  • {reason['condition']} — {oc[reason['outcome']]} (rule {rule})",
             f"      {reason['fact']} : attendu {_value(reason['expected'])}, constaté {_value(reason['actual'])}"
             if lang == "fr" else
             f"      {reason['fact']}: expected {_value(reason['expected'])}, actual {_value(reason['actual'])}"]
    if reason.get("derived_by"):
        lines.append(f"      (valeur déduite par {reason['derived_by']})" if lang == "fr"
                     else f"      (value derived by {reason['derived_by']})")
    lines.append(f"      « {c['text']} » — fiche {c['fiche']}, {c['section']}")
    if reason.get("interpretation"):
        lines.append(f"      interprétation : {reason['interpretation']}" if lang == "fr"
                     else f"      interpretation: {reason['interpretation']}")
    return lines


def explanation_text(x: dict, lang: str = "fr") -> str:
    fr = lang == "fr"
    st = STATUS[lang]
    out = [f"Fiche {x['fiche']} : {x['title']}",
           (f"Statut : {st[x['status']]} ({x['status_rule']})" if fr else f"Status: {st[x['status']]} ({x['status_rule']})")]
    if x["recorded_status"] != x["status"]:
        out.append(f"⚠ statut enregistré : {st[x['recorded_status']]} — lancez 'pnman audit'" if fr
                   else f"⚠ recorded status: {st[x['recorded_status']]} — run 'pnman audit'")
    out.append("")
    if x["in_plan"]:
        out.append("Pourquoi cette fiche est dans le plan" if fr else "Why this fiche is in the plan")
        for step in x["why"]["steps"]:
            part = f" ({step['part']})" if step.get("part") else ""
            out.append(f"  Étape {step['step']}{part} :" if fr else f"  Step {step['step']}{part}:")
            for rule, text in zip(step["because"], step["because_text"]):
                out.append(f"    – {rule} : {text}")
        if x["why"]["brought_by"]:
            out.append("  Ses pré-requis sont apportés par :" if fr else "  Its prerequisites are brought by:")
            for b in x["why"]["brought_by"]:
                if b["kind"] == "company_action":
                    out.append(f"    – étape {b['step']} : {b['label']} ({b['id']})" if fr
                               else f"    – step {b['step']}: {b['label']} ({b['id']})")
                else:
                    out.append(f"    – étape {b['step']} : fiche {b['fiche']} ({', '.join(b['provides']) or 'préparation'})"
                               if fr else f"    – step {b['step']}: fiche {b['fiche']} ({', '.join(b['provides']) or 'preparation'})")
    else:
        out.append("Cette fiche n’est pas dans le plan." if fr else "This fiche is not in the plan.")
    out.append("")
    if x["why_not"]:
        out.append("Pourquoi pas : conditions non remplies" if fr else "Why not: failing conditions")
        for reason in x["why_not"]:
            out.extend(_reason_lines(reason, lang))
    if x["unknown"]:
        out.append("À préciser : conditions inconnues" if fr else "To be confirmed: unknown conditions")
        for reason in x["unknown"]:
            out.extend(_reason_lines(reason, lang))
    met = [r for r in x["conditions"] if r["outcome"] == "met"]
    if met:
        out.append("Conditions remplies" if fr else "Conditions met")
        for reason in met:
            out.extend(_reason_lines(reason, lang))
    take = x["what_would_it_take"]
    out.append("")
    out.append("Ce qu’il faudrait pour la rendre éligible" if fr else "What it would take to make it eligible")
    if take["already_eligible"]:
        out.append("  Rien : la fiche est déjà éligible." if fr else "  Nothing: the fiche is already eligible.")
    elif take["impossible"]:
        for item in take["impossible"]:
            out.append(f"  ✘ impossible : {item['why']} ({item['condition']})" if fr
                       else f"  ✘ impossible: {item['why']} ({item['condition']})")
    else:
        for i, option in enumerate(take["options"], start=1):
            out.append(f"  Option {i} :" if fr else f"  Option {i}:")
            for change in option:
                out.append(f"    – {change['label']} ({change['fact']} : {_value(change['from'])} → {_value(change['to'])})")
    for warning in x["warnings"]:
        out.append(f"⚠ [{warning['code']}] {warning['message']}")
    return "\n".join(out) + "\n"


def audit_text(report: dict) -> str:
    verdicts = {
        "match": "CONFORME : le résultat recalculé à partir des entrées enregistrées est identique.",
        "altered": "ALTÉRÉ : le contenu de l’enregistrement ne correspond plus à son empreinte (decision_digest).",
        "rules_changed": "RÈGLES MODIFIÉES : la base de connaissances a changé depuis l’enregistrement et le résultat diffère.",
        "mismatch": "DIFFÉRENT : le recalcul ne donne pas le résultat enregistré.",
    }
    kv = report["knowledge_version"]
    out = [verdicts[report["verdict"]],
           f"  empreinte enregistrée : {report['decision_digest']['recorded']}",
           f"  empreinte du contenu  : {report['decision_digest']['recomputed_from_record']}",
           f"  base de connaissances : enregistrée {kv['recorded']}, actuelle {kv['current']}"
           + ("" if kv["same"] else " (différente : les règles ont changé)")]
    if report["differences"]:
        out.append(f"Différences ({len(report['differences'])}) :")
        for d in report["differences"]:
            note = f" ({d['note']})" if d.get("note") else ""
            out.append(f"  {d['path']}: recorded {_value(d['recorded'])}, recomputed {_value(d['recomputed'])}{note}")
    return "\n".join(out) + "\n"
