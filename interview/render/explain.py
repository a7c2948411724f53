"""Text rendering of explanations (`pnman explain`) and audit reports (`pnman audit`)."""
from __future__ import annotations

from .l10n import Words
from .reasons import describe_rule


def _conditions(ids: list[str], w: Words, verbose: bool = True) -> str:
    """Condition ids in words: the fact each one reads, its id beside it (`verbose`; a page
    a company reads shows no id)."""
    by_id = {c.id: c for conditions in w.kb.conditions.values() for c in conditions}
    parts = []
    for condition_id in ids:
        condition = by_id.get(condition_id)
        facts = w.join(w.fact(f) for f in condition.facts) if condition else ""
        parts.append((f"{facts} ({condition_id})" if verbose else facts) if facts else condition_id)
    return "; ".join(parts) or w("warnings.ineligible_status")


def left_out_text(left: dict, w: Words, verbose: bool = True) -> str:
    """Why a fiche is left out of the plan, from the planner's code and figures."""
    code = left["code"]
    figures = {k: v for k, v in left.items() if k not in ("code", "status")}
    if "rule" in figures:
        figures["rule"] = describe_rule(figures["rule"], w)
    for key in ("failing", "acquisition_failing"):
        if key in figures:
            figures[key] = _conditions(figures[key], w, verbose)
    for key in ("fact", "provides"):
        if key in figures:
            figures[key] = w.fact(figures[key])
    if "requested" in figures:
        figures["requested"] = w.join(figures["requested"])
    text = w(f"explain.left_out.{code}", **figures)
    if left.get("status") == "ineligible" and code != "requested_ineligible" and left.get("failing"):
        text += "\n" + w("explain.left_out.also_ineligible", failing=figures["failing"])
    return text


def _reason_lines(reason: dict, w: Words) -> list[str]:
    lines = [w("explain.reason", condition=reason["condition"], outcome=w.outcome(reason["outcome"]),
               rule=reason.get("rule") or w("explain.no_rule")),
             w("explain.fact", fact=reason["fact"], expected=w.value(reason["expected"]), actual=w.value(reason["actual"]))]
    if reason.get("derived_by"):
        lines.append(w("explain.derived", rule=reason["derived_by"]))
    lines.append("      " + w.citation(reason["citation"]))
    if reason.get("interpretation"):
        lines.append(w("explain.interpretation", text=w.interpretation(reason["interpretation"])))
    return lines


def localise_explanation(x: dict, w: Words, verbose: bool = True) -> dict:
    """The explanation with the words for a person beside each code (for --format json too)."""
    x = dict(x, lang=w.lang)
    x["why"] = dict(x["why"], steps=[dict(s, because_text=[describe_rule(r, w) for r in s["because"]])
                                     for s in x["why"]["steps"]],
                    brought_by=[dict(b, label=w.step_label(b)) if b["kind"] == "company_action" else b
                                for b in x["why"]["brought_by"]])
    take = dict(x["what_would_it_take"])
    take["impossible"] = [dict(i, why=w(f"facts.{i['fact']}.unchangeable")) for i in take["impossible"]]
    take["options"] = [[dict(c, label=w.action(c["fact"])) for c in option] for option in take["options"]]
    x["what_would_it_take"] = take
    x["warnings"] = [dict(warning, message=w.warning(warning)) for warning in x["warnings"]]
    if x.get("left_out"):
        x["left_out"] = dict(x["left_out"], text=left_out_text(x["left_out"], w, verbose))
    return x


def explanation_text(x: dict, w: Words) -> str:
    """`x` as localise_explanation returns it."""
    out = [f"{w('report.fiche')} {x['fiche']} : {x['title']}",
           w("explain.status", status=w.status(x["status"]), rule=x["status_rule"])]
    if x["recorded_status"] != x["status"]:
        out.append(w("explain.recorded", status=w.status(x["recorded_status"])))
    out.append("")
    if x["in_plan"]:
        out.append(w("explain.why_in_plan"))
        for step in x["why"]["steps"]:
            part = f" ({w.part(step['part'])})" if step.get("part") else ""
            out.append(w("explain.step", step=step["step"], part=part))
            for rule, text in zip(step["because"], step["because_text"]):
                out.append(f"    – {rule} : {text}")
        if x["why"]["brought_by"]:
            out.append(w("explain.brought_by"))
            for b in x["why"]["brought_by"]:
                if b["kind"] == "company_action":
                    out.append(w("explain.brought_action", step=b["step"], label=b["label"], id=b["id"]))
                else:
                    out.append(w("explain.brought_fiche", step=b["step"], fiche=b["fiche"],
                                 provides=w.join(b["provides"]) or w("explain.preparation")))
    else:
        out.append(w("explain.not_in_plan"))
        if x.get("left_out"):
            out.extend(x["left_out"]["text"].split("\n"))
    out.append("")
    for key, reasons in (("explain.why_not", x["why_not"]), ("explain.unknown", x["unknown"]),
                         ("explain.met", [r for r in x["conditions"] if r["outcome"] == "met"])):
        if reasons:
            out.append(w(key))
            for reason in reasons:
                out.extend(_reason_lines(reason, w))
    take = x["what_would_it_take"]
    out.append("")
    out.append(w("explain.take"))
    if take["already_eligible"]:
        out.append(w("explain.already"))
    elif take["impossible"]:
        for item in take["impossible"]:
            out.append(w("explain.impossible", why=item["why"], condition=item["condition"]))
    elif not take["options"]:
        out.append(w("explain.no_option"))
    else:
        for i, option in enumerate(take["options"], start=1):
            out.append(w("explain.option", n=i))
            for change in option:
                out.append(f"    – {change['label']} ({change['fact']} : {w.value(change['from'])} → {w.value(change['to'])})")
    for warning in x["warnings"]:
        out.append(f"⚠ [{warning['code']}] {warning['message']}")
    return "\n".join(out) + "\n"


def audit_text(report: dict, w: Words) -> str:
    kv = report["knowledge_version"]
    out = [w(f"audit.{report['verdict']}"),
           w("audit.recorded", value=report["decision_digest"]["recorded"]),
           w("audit.content", value=report["decision_digest"]["recomputed_from_record"])
           + ("" if report["decision_digest"]["ok"] else w("audit.differs")),
           w("audit.record_hash", recorded=report["record_hash"]["recorded"] or w("audit.absent"),
             value=report["record_hash"]["recomputed_from_record"])
           + ("" if report["record_hash"]["ok"] else w("audit.differs")),
           w("audit.knowledge", recorded=kv["recorded"], current=kv["current"])
           + ("" if kv["same"] else w("audit.knowledge_changed"))]
    if report.get("edition"):           # the guide edition the record was replayed under
        edition = report["edition"]
        out.append(w("editions.audit", recorded=edition["recorded"] or w("editions.audit_none"),
                     replayed=edition["replayed_under"]))
    if report["differences"]:
        out.append(w("audit.differences", count=len(report["differences"])))
        for d in report["differences"]:
            note = f" ({w.cat.get('audit.notes.' + d['note'], d['note'])})" if d.get("note") else ""
            out.append(w("audit.difference", path=d["path"], recorded=w.value(d["recorded"]),
                         recomputed=w.value(d["recomputed"]), note=note))
    return "\n".join(out) + "\n"
