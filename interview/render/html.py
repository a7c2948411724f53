"""A self-contained, printable HTML report for a company file (no external assets).

Jinja2 with autoescaping renders it, so every user-provided string is escaped; the plan
graph is embedded as SVG when Graphviz is installed, as a textual ordering otherwise.
It prints on A4 (the activities, folded on screen, are printed in full), figures never
break inside (no-break spaces), and ids appear only when verbose.
"""
from __future__ import annotations

import re
import shutil

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from . import graph
from .l10n import Words
from .reasons import because_words, common_unknowns, fiche_reasons, no_plan_reasons, shown_reasons, shown_warnings
from .safe import plain
from .text import budget_text, flag_legend, goals_text, size_text, step_flags, totals_text

NBSP = "\u00a0"


def _plan_svg(record: dict, w: Words) -> Markup | None:
    """The plan graph as inline SVG, or None when Graphviz is not available."""
    if not record["plan"] or shutil.which("dot") is None:
        return None
    g, ranks = graph.plan_graph(record["plan"], w)
    # Ranks across the page when they are few and full, down the page for a long chain:
    # either way the drawing stays near its natural size, legible on A4.
    rankdir = "TB" if len(ranks) > max(len(rank) for rank in ranks) else "LR"
    dot = graph.to_dot(g, "plan", ranks, rankdir=rankdir, fontsize=12)
    svg = graph.render_with_graphviz(dot, "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]                       # drop the XML prolog and doctype
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)   # Graphviz comments may echo labels
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.S)   # node ids as tooltips: not for a reader
    return Markup(svg)


def _ranks(record: dict, w: Words) -> list[list[dict]]:
    """Steps grouped by rank (the steps of one rank can run in parallel): a textual graph."""
    _, ranks = graph.plan_graph(record["plan"], w)
    by_key = {graph.step_key(step): step for step in record["plan"]}
    return [sorted((by_key[k] for k in rank), key=lambda s: s["step"]) for rank in ranks]


def assessment_html(record: dict, w: Words, verbose: bool = False) -> str:
    """The localised record as a report a diagnostician can hand over."""
    env = Environment(loader=PackageLoader("interview.render", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["plain"] = plain
    template = env.get_template("report.html")
    kb = w.kb
    svg = _plan_svg(record, w)
    w = w.glued(NBSP)                                    # « 2 400 000 DA HT » never wraps inside
    common = common_unknowns(record)
    return template.render(
        r=record, kb=kb, fiches=kb.fiches, w=w, t=w, lang=w.lang, verbose=verbose,
        goals=plain(goals_text(record, w)) if record["profile"].get("goals") or record["profile"].get("fiches") else "",
        size=size_text(record, w), totals=totals_text(record, w), colon=w.field("", ""),
        legend=flag_legend(record["plan"], w),
        budget_text=budget_text, step_flags=step_flags, because_words=because_words,
        svg=svg, ranks=_ranks(record, w) if record["plan"] else [],
        no_plan=no_plan_reasons(record, w) if not record["plan"] else ("", []),
        warnings=record["warnings"] if verbose else shown_warnings(record),
        common=w("report.unknown_common", facts=w.join(w.fact(f) for f in common)) if common else "",
        reasons=lambda entry: fiche_reasons(entry, w, common),
        citations=lambda entry: list({r["citation"]["text"]: r["citation"] for r in shown_reasons(entry)}.values()),
        caveats=kb.guide.caveats)
