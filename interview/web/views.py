"""What the pages show, computed from a localised record: the plan, the fiches, the
explanations and the downloads. The words are the renderers' (interview.render), so a
page and a report say the same thing the same way."""
from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path
from typing import Any

import orjson

from pnman.engine.explain import explain
from pnman.engine.reasons import Reason, Rule
from pnman.knowledge.errors import PnmanError

from ..render import html as report_html
from ..render.explain import localise_explanation
from ..render.l10n import Words
from ..render.reasons import (because_words, common_unknowns, fiche_reasons, no_plan_reasons, reason_words,
                              shown_reasons, shown_warnings)
from ..render.safe import plain
from ..render.text import budget_text, flag_legend, goals_text, size_text, step_flags, totals_text

DOWNLOADS = ("result.json", "report.html", "report.pdf")


class Unavailable(Exception):
    """A download this server cannot make (the PDF without its extra)."""


def choice_value(value: Any) -> str:
    """A choice's value as a form field carries it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def question_text(key: str, w: Words, text: str) -> str:
    """A question as the pages ask it: the catalogue's web wording when the terminal's
    mentions typing (« numéros séparés par des virgules »), else the interview's."""
    return w.cat.get(f"web.questions.{key}") or text


def review_rows(interview) -> list[dict]:
    return [dict(row, question=question_text(row["key"], interview.words, row["question"]))
            for row in interview.review()]


def refusal(exc: PnmanError, w: Words) -> str:
    """The interview's refusal of an answer, for a person, in the page's language: the
    message without the '<interview>: key …:' prefix a program needs."""
    return exc.detail_in(w.cat)


def result_context(record: dict, w: Words) -> dict:
    kb = w.kb
    common = common_unknowns(record)
    glued = w.glued("\u00a0")
    steps = []
    for step in record["plan"]:
        item = {"s": step, "flags": step_flags(step, w), "why": because_words(step, w)}
        if step["kind"] == "fiche":
            item["title"] = w.fiche_title(step["fiche"])
            item["guide_title"] = step.get("title")
            item["budget"] = budget_text(step["budget"], glued)
        steps.append(item)
    fiches = []
    for entry in record["fiches"]:
        fiches.append({"e": entry, "title": w.fiche_title(entry["fiche"]), "guide_title": kb.fiche(entry["fiche"]).title,
                       "reasons": fiche_reasons(entry, w, common),
                       "citations": list({r["citation"]["text"]: r["citation"] for r in shown_reasons(entry)}.values()),
                       "planned": any(s["kind"] == "fiche" and s["fiche"] == entry["fiche"] for s in record["plan"])})
    profile = record["profile"]
    return {"r": record, "name": profile.get("name"), "size": size_text(record, glued),
            "goals": plain(goals_text(record, w)) if profile.get("goals") or profile.get("fiches") else "",
            "steps": steps, "totals": totals_text(record, glued), "legend": flag_legend(record["plan"], w),
            "svg": report_html.plan_svg(record, w), "no_plan": no_plan_reasons(record, w) if not record["plan"] else None,
            "warnings": shown_warnings(record),
            "common": w("report.unknown_common", facts=w.join(w.fact(f) for f in common)) if common else "",
            "fiches": fiches, "registry": record.get("registry"), "pdf": pdf_available()}


def explanation_context(record: dict, number: int, w: Words) -> dict:
    """`pnman explain` for one fiche of a result, in words: why (or why not) in the plan,
    the guide's sentences, and what it would take."""
    x = localise_explanation(explain(dict(record, _source="<web>"), number, w.kb), w, verbose=False)
    reasons = [{"text": reason_words(r, w), "citation": r["citation"],
                "interpretation": w.interpretation(r.get("interpretation"))} for r in x["why_not"]]
    unknown = list(dict.fromkeys(w.fact(r["fact"]) for r in x["unknown"]))
    return {"x": x, "number": number, "title": w.fiche_title(number), "guide_title": w.kb.fiche(number).title,
            "reasons": reasons, "unknown": unknown, "take": x["what_would_it_take"],
            "left_out": (x.get("left_out") or {}).get("text"),
            "met": [r["citation"] for r in x["conditions"] if r["outcome"] == "met"],
            "steps": [dict(step, because_text=[t for t, b in zip(step["because_text"], step["because"])
                                               if Reason.of_id(b).rule is not Rule.STATUS])
                      for step in x["why"]["steps"]]}


def _style_hashes(page: str) -> str:
    hashes = [base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
              for style in re.findall(r"<style>(.*?)</style>", page, flags=re.S)]
    return " ".join(f"'sha256-{h}'" for h in hashes)


def download(record: dict, w: Words, name: str) -> tuple[bytes, str, dict]:
    """(content, media type, extra headers) of a download."""
    if name == "result.json":
        return orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n", "application/json", {}
    if name == "report.html":
        page = report_html.assessment_html(record, w)
        # The report is one self-contained file: its own style block, allowed by hash only.
        csp = f"default-src 'none'; style-src {_style_hashes(page)}; img-src data:; font-src data:"
        return page.encode("utf-8"), "text/html; charset=utf-8", {"Content-Security-Policy": csp}
    if not pdf_available():
        raise Unavailable(w("web.pdf_missing.text"))
    from ..render.pdf import assessment_pdf
    return assessment_pdf(record, w), "application/pdf", {}


@functools.lru_cache(maxsize=1)
def pdf_available() -> bool:
    """Whether the PDF extra (WeasyPrint and its system libraries) works on this server."""
    try:
        from ..render.pdf import weasyprint
        weasyprint()
    except (ImportError, PnmanError):
        return False
    return True


def file_name(record: dict, name: str) -> str:
    company = re.sub(r"[^A-Za-z0-9]+", "-", str(record["profile"].get("name") or "")).strip("-")[:40]
    stem, ext = name.split(".")
    return f"pnman-{company.lower() or 'entreprise'}-{stem}.{ext}"


def session_rows(service, w: Words) -> list[dict]:
    """The finished interviews of this server, for the diagnostician's page (without a registry)."""
    rows = []
    for state in service.store.finished():
        with service.use(state.id) as live:
            if live is None or live.interview.next() is not None:
                continue
            record = service.result(live)
        rows.append({"link": f"/i/{state.id}/result", "at": state.updated, "name": record["profile"].get("name"),
                     "size": record["size_class"], "id": state.id[:8],
                     "plan": [s["fiche"] for s in record["plan"] if s["kind"] == "fiche"],
                     "overrides": None})
    return rows


def registry_rows(path, w: Words) -> list[dict]:
    """The registry's assessments, newest first, for the diagnostician's page."""
    from pnman.records.registry import Registry

    if not Path(path).exists():
        return []
    with Registry.open(path, create=False) as registry:
        listed = registry.list(limit=500)
    return [{"link": f"/assessments/{e.id}", "at": e.created_at, "name": e.name, "size": e.size_class,
             "id": e.id, "plan": list(e.plan), "overrides": e.overrides} for e in listed]


def registry_entry(path, entry_id: str, w: Words) -> dict:
    """A registry entry for its page: the record as recorded (localised anew when the page's
    language is another), the overrides beside the engine's statuses, and the plan
    recomputed with the overrides in force, apart."""
    from pnman.records.registry import Registry

    from ..render.l10n import localise
    from ..render.registry import override_rows, replanned_with_overrides, when
    with Registry.open(path, create=False) as registry:
        shown = registry.show(entry_id)
    record = shown.record if shown.record.get("lang") == w.lang else localise(shown.record, w)
    effective = shown.effective()
    rows = override_rows(shown, w)
    replanned = replanned_with_overrides(shown, effective, w) if effective else None
    return {"id": shown.entry.id, "at": when(shown.entry.created_at), "hash": shown.entry.hash,
            "prev_hash": shown.entry.prev_hash, "record": record, "overrides": rows,
            "effective": {n: next(r for r in reversed(rows) if r["fiche"] == n) for n in effective},
            "replanned": replanned, "replanned_steps": _replanned_steps(replanned, w) if replanned else []}


def _replanned_steps(replanned: dict, w: Words) -> list[str]:
    from ..render.registry import replan_lines
    return replan_lines(replanned, w)
