"""An assessment of the registry with its overrides, in words: the engine's decision, each
override beside the engine's status (who, when, why, in force or replaced), and the plan
recomputed with the overrides in force, shown apart. `pnman registry show` and the web's
assessment page say it the same way."""
from __future__ import annotations

from .l10n import Words
from .safe import plain


def when(created_at: str | None) -> str:
    """2026-03-01T14:30:05.123456+00:00 → 2026-03-01 14:30:05 UTC."""
    if not created_at:
        return "—"
    return f"{created_at[:10]} {created_at[11:19]} UTC"


def short_hash(digest: str | None, w: Words) -> str:
    return digest if digest else w("registry.none")


def reason_words(w: Words, code: str) -> str:
    return w.cat.get(f"override.reasons.{code}", code)


def fiche_label(w: Words, number: int) -> str:
    return w.fiche_title(number) if number in w.kb.fiches else str(number)


def verify_lines(report, path, w: Words) -> list[str]:
    """What `registry verify` found in the chain (records.chain.VerifyReport), in sentences:
    `pnman registry verify` and the auditor's pages say it alike."""
    lines = []
    if report.problem is not None:
        problem = report.problem
        lines.append(w("registry.verify.broken", entry=problem.id, seq=problem.seq, checked=report.checked,
                       problem=w(f"registry.verify.problems.{problem.code}", detail=problem.detail)))
    elif report.entries == 0:
        lines.append(w("registry.verify.empty", path=path))
    else:
        lines.append(w("registry.verify.ok", count=report.entries, head=report.head, path=path))
    if report.triggers_missing:
        lines.append(w("registry.verify.triggers", names=w.join(report.triggers_missing)))
    return lines


def replanned_with_overrides(shown, effective: dict, w: Words) -> dict:
    """The plan with the overrides in force, localised like a record (labels, messages); when
    the record can no longer be planned (its edition or a profile key gone from the
    knowledge), why, in place of the plan: the record and its overrides are still shown."""
    from pnman.engine.overrides import replan
    from pnman.knowledge.errors import PnmanError
    try:
        data = replan(shown.record, {n: o.status for n, o in effective.items()}, w.kb)
    except PnmanError as exc:
        return {"error": str(exc)}
    data["plan"] = [dict(step, label=w.step_label(step)) if step.get("kind") == "company_action" else step
                    for step in data["plan"]]
    data["warnings"] = [dict(x, message=_warning(x, w)) for x in data["warnings"]]
    return data


def _warning(warning: dict, w: Words) -> str:
    figures = warning.get("figures") or {}
    if warning["code"] in ("goal_ineligible", "preparation_ineligible") and figures.get("failing") == []:
        closed = figures.get("preparation", warning.get("fiche"))
        return w("registry.show.closed_by_override", fiche=closed)
    return w.warning(warning)


def override_rows(shown, w: Words) -> list[dict]:
    """Each override in words, side by side with the engine's status: in force or replaced."""
    effective = shown.effective()
    latest = {}
    for o in shown.overrides:
        latest[o.fiche] = o.id
    rows = []
    for o in shown.overrides:
        if latest[o.fiche] != o.id:
            state = w("registry.show.replaced", id=latest[o.fiche])
        elif o.fiche in effective:
            state = w("registry.show.in_force")
        else:
            state = w("registry.show.back_to_engine")
        rows.append({"fiche": o.fiche, "title": fiche_label(w, o.fiche), "engine": w.status(o.engine_status),
                     "status": w.status(o.status), "by": plain(o.by), "at": when(o.at),
                     "reason": reason_words(w, o.reason), "justification": plain(o.justification), "id": o.id,
                     "state": state, "status_code": o.status, "engine_code": o.engine_status})
    return rows


def replan_lines(replanned: dict, w: Words) -> list[str]:
    from .text import budget_text, step_flags, step_title, totals_text
    if "error" in replanned:
        return [w("registry.show.replan_error", error=replanned["error"])]
    forced = {s["fiche"] for s in replanned["statuses"]}
    lines = []
    if not replanned["same_knowledge"]:
        lines.append(w("registry.show.replan_knowledge", current=replanned["knowledge_version"]))
    for step in replanned["plan"]:
        if step["kind"] == "company_action":
            flags = "".join(f" [{f}]" for f in step_flags(step, w))
            lines.append(f"{step['step']}. " + w.field(w("report.company_action"), plain(step["label"]))
                         + f" ({w.fiche_list('lists.needed_by', step['needed_by'])}){flags}")
        else:
            status = w.status(step["status"])
            if step["fiche"] in forced:
                status = w("registry.show.by_override", status=status)
            tags = w.join([w.fiche_type(step["type"]), status, *step_flags(step, w)])
            lines.append(f"{step['step']}. " + w.field(step_title(step, w), w.fiche_title(step["fiche"]))
                         + f" [{tags}] — {budget_text(step['budget'], w)}")
    if not replanned["plan"]:
        lines.append(w("registry.show.replan_empty"))
    lines.append(f"{w('report.totals')} — {totals_text(replanned, w)}")
    lines += [f"! {x['message']}" for x in replanned["warnings"]]
    return lines


def _head_lines(shown, w: Words) -> list[str]:
    entry = shown.entry
    lines = [w("registry.show.heading", entry=entry.id, seq=entry.seq, time=when(entry.created_at)),
             w.field(w("registry.show.hash"), entry.hash),
             w.field(w("registry.show.prev"), entry.prev_hash or w("registry.show.first"))]
    source = (entry.payload or {}).get("index", {}).get("source")
    if source:
        lines.append(w("registry.show.source", portfolio=source["portfolio"], row=source["row"]))
    return lines


def show_text(shown, record: dict, replanned: dict | None, w: Words) -> str:
    from .text import assessment_text
    out = _head_lines(shown, w) + ["", w("registry.show.engine"), "", assessment_text(record, w).rstrip("\n"), ""]
    rows = override_rows(shown, w)
    if not rows:
        out.append(w("registry.show.no_overrides"))
    else:
        out.append(w("registry.show.overrides", count=len(rows)))
        for r in rows:
            out.append("  • " + w("registry.show.override", **r))
    if replanned is not None:
        out += ["", w("registry.show.replan")]
        out += ["  " + line for line in replan_lines(replanned, w)]
    return "\n".join(out) + "\n"


def show_markdown(shown, record: dict, replanned: dict | None, w: Words) -> str:
    from .markdown import assessment_markdown, md
    out = [f"- {md(line)}" for line in _head_lines(shown, w)] + ["", assessment_markdown(record, w).rstrip("\n"), ""]
    rows = override_rows(shown, w)
    out += [f"## {w('registry.show.overrides_title')}", ""]
    if not rows:
        out.append(md(w("registry.show.no_overrides")))
    else:
        keys = ("fiche", "engine", "status", "by", "at", "reason", "justification", "state")
        out.append("| " + " | ".join(w(f"registry.show.columns.{k}") for k in keys) + " |")
        out.append("|" + "---|" * len(keys))
        for r in rows:
            cells = [md(str(c)) for c in (f"{r['fiche']} – {r['title']}", r["engine"], r["status"], r["by"], r["at"],
                                          r["reason"], r["justification"], r["state"])]
            cells[2] = f"**{cells[2]}**"        # the override's status, in bold
            out.append("| " + " | ".join(cells) + " |")
    if replanned is not None:
        out += ["", f"## {w('registry.show.replan_title')}", "", f"*{md(w('registry.show.replan'))}*", ""]
        out += [f"- {md(line)}" for line in replan_lines(replanned, w)]
    return "\n".join(out) + "\n"


def show_html(shown, record: dict, replanned: dict | None, w: Words) -> str:
    from markupsafe import escape

    from .html import assessment_html
    page = assessment_html(record, w)
    rows = override_rows(shown, w)
    parts = ['<section class="registry-overrides">',
             "<h2>" + str(escape(w("registry.show.overrides_title"))) + "</h2>",
             "<p class=\"muted\">" + "<br>".join(str(escape(line)) for line in _head_lines(shown, w)) + "</p>"]
    if not rows:
        parts.append("<p>" + str(escape(w("registry.show.no_overrides"))) + "</p>")
    else:
        keys = ("fiche", "engine", "status", "by", "at", "reason", "justification", "state")
        parts.append("<table><tr>" + "".join(f"<th>{escape(w(f'registry.show.columns.{k}'))}</th>" for k in keys)
                     + "</tr>")
        for r in rows:
            cells = [f"{r['fiche']} – {r['title']}", r["engine"], r["status"], r["by"], r["at"], r["reason"],
                     r["justification"], r["state"]]
            classes = ["", r["engine_code"], r["status_code"], "", "nowrap", "", "", "muted"]
            parts.append("<tr>" + "".join(f'<td class="{c}">{escape(v)}</td>' for c, v in zip(classes, cells))
                         + "</tr>")
        parts.append("</table>")
    if replanned is not None:
        parts.append("<h2>" + str(escape(w("registry.show.replan_title"))) + "</h2>")
        parts.append("<p><em>" + str(escape(w("registry.show.replan"))) + "</em></p><ul>")
        parts += [f"<li>{escape(line)}</li>" for line in replan_lines(replanned, w)]
        parts.append("</ul>")
    parts.append("</section>")
    at = page.rfind("</body>")
    return page[:at] + "\n".join(parts) + "\n" + page[at:]


# `pnman registry show --format F`: the renderer of each format but JSON (the entry as data).
SHOWN = {"text": show_text, "markdown": show_markdown, "html": show_html}
