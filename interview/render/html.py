"""A self-contained, printable HTML report for a company file (no external assets).

Jinja2 with autoescaping renders it, so every user-provided string is escaped; the plan
graph is embedded as SVG when Graphviz is installed, as a textual ordering otherwise.
"""
from __future__ import annotations

import re
import shutil

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from . import graph
from .l10n import Words
from .safe import plain
from .text import budget_text, step_flags


def _plan_svg(record: dict, w: Words) -> Markup | None:
    """The plan graph as inline SVG, or None when Graphviz is not available."""
    if not record["plan"] or shutil.which("dot") is None:
        return None
    g, ranks = graph.plan_graph(record["plan"], w)
    svg = graph.render_with_graphviz(graph.to_dot(g, "plan", ranks), "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]                       # drop the XML prolog and doctype
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)   # Graphviz comments may echo labels
    return Markup(svg)


def _ranks(record: dict, w: Words) -> list[list[dict]]:
    """Steps grouped by rank (the steps of one rank can run in parallel): a textual graph."""
    _, ranks = graph.plan_graph(record["plan"], w)
    by_key = {graph.step_key(step): step for step in record["plan"]}
    return [sorted((by_key[k] for k in rank), key=lambda s: s["step"]) for rank in ranks]


def assessment_html(record: dict, w: Words) -> str:
    """The localised record as a report a diagnostician can hand over."""
    env = Environment(loader=PackageLoader("interview.render", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["plain"] = plain
    template = env.get_template("report.html")
    kb = w.kb
    goals = w.join(w.goal(g) for g in record["profile"].get("goals") or [])
    return template.render(r=record, kb=kb, fiches=kb.fiches, w=w, t=w, lang=w.lang, goals=goals,
                           budget_text=budget_text, step_flags=step_flags, svg=_plan_svg(record, w),
                           ranks=_ranks(record, w),
                           caveats=kb.guide.caveats)
