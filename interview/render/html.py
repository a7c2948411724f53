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
from markupsafe import Markup, escape

from pnman.engine.steps import step_label
from pnman.knowledge.errors import PnmanError

from . import graph
from .footer import registry_footer
from .l10n import Words
from .reasons import because_words, common_unknowns, fiche_reasons, no_plan_reasons, shown_reasons, shown_warnings
from .safe import plain
from .text import budget_text, flag_legend, goals_text, size_text, step_flags, totals_text

NBSP = "\u00a0"


def plan_svg(record: dict, w: Words, outlined: bool = False) -> Markup | None:
    """The plan graph as inline SVG, or None when Graphviz is not available. `outlined`:
    letters drawn as shapes by Graphviz's cairo renderer, shaped and in reading order,
    for a PDF whose SVG text would not be (Arabic); None when that renderer is missing.
    A right-to-left language reads the graph from right to left."""
    if not record["plan"] or shutil.which("dot") is None:
        return None
    g, ranks = graph.plan_graph(record["plan"], w)
    # Ranks across the page when they are few and full, down the page for a long chain:
    # either way the drawing stays near its natural size, legible on A4.
    rankdir = "TB" if len(ranks) > max(len(rank) for rank in ranks) else "RL" if w.cat.direction == "rtl" else "LR"
    dot = graph.to_dot(g, "plan", ranks, rankdir=rankdir, fontsize=12)
    try:
        svg = graph.render_with_graphviz(dot, "svg:cairo" if outlined else "svg").decode("utf-8")
    except PnmanError:
        if outlined:        # a Graphviz without its cairo plugin: the steps, rank by rank, instead
            return None
        raise
    svg = svg[svg.find("<svg"):]                       # drop the XML prolog and doctype
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)   # Graphviz comments may echo labels
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.S)   # node ids as tooltips: not for a reader
    return Markup(svg)


def french(text, nowrap: bool = False) -> Markup:
    """A French text from the guide (a quotation, a title, an activity) kept left to right
    as one piece inside a right-to-left line: its punctuation and figures stay in place."""
    return Markup('<bdi dir="ltr" lang="fr"{}>{}</bdi>').format(Markup(' class="nowrap"') if nowrap else "", text)


def citation_html(citation: dict, w: Words) -> Markup:
    """« text » (fiche N, section): the catalogue's sentence around the guide's French words
    (the quotation and the guide's section name)."""
    text, section = "\u2063", "\u2064"        # INVISIBLE SEPARATOR and PLUS: never in a catalogue
    name = w.section(citation["section"])
    sentence = escape(w("format.citation", **dict(citation, text=text, section=section)))
    shown = french(name, nowrap=True) if name == citation["section"] else Markup('<span class="nowrap">{}</span>').format(name)
    return Markup(sentence.replace(text, french(citation["text"])).replace(section, shown))


def _ranks(record: dict, w: Words) -> list[list[dict]]:
    """Steps grouped by rank (the steps of one rank can run in parallel): a textual graph."""
    _, ranks = graph.plan_graph(record["plan"], w)
    by_key = {step_label(step): step for step in record["plan"]}
    return [sorted((by_key[k] for k in rank), key=lambda s: s["step"]) for rank in ranks]


def assessment_html(record: dict, w: Words, verbose: bool = False, outlined_graph: bool = False) -> str:
    """The localised record as a report a diagnostician can hand over (`outlined_graph`:
    see plan_svg; the PDF asks for it in a right-to-left language)."""
    env = Environment(loader=PackageLoader("pnman.interview.render", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["plain"] = plain
    template = env.get_template("report.html")
    kb = w.kb
    svg = plan_svg(record, w, outlined=outlined_graph)
    w = w.glued(NBSP)                                    # « 2 400 000 DA HT » never wraps inside
    common = common_unknowns(record)
    return template.render(
        r=record, kb=kb, fiches=kb.fiches, w=w, t=w, lang=w.lang, verbose=verbose,
        goals=plain(goals_text(record, w)) if record["profile"].get("goals") or record["profile"].get("fiches") else "",
        size=size_text(record, w), totals=totals_text(record, w), colon=w.field("", ""),
        legend=flag_legend(record["plan"], w),
        budget_text=budget_text, step_flags=step_flags, because_words=because_words,
        dir=w.cat.direction, fr=french, citation=lambda c: citation_html(c, w),
        translation_note=w("report.translation_note") if w.cat.translation else "",
        svg=svg, ranks=_ranks(record, w) if record["plan"] else [],
        no_plan=no_plan_reasons(record, w) if not record["plan"] else ("", []),
        warnings=record["warnings"] if verbose else shown_warnings(record),
        common=w("report.unknown_common", facts=w.join(w.fact(f) for f in common)) if common else "",
        reasons=lambda entry: fiche_reasons(entry, w, common),
        citations=lambda entry: list({r["citation"]["text"]: r["citation"] for r in shown_reasons(entry)}.values()),
        caveats=kb.guide.caveats, registry_line=registry_footer(record, w))
