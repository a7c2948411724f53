"""A self-contained, printable HTML report for a company file (no external assets).

Jinja2 with autoescaping renders it, so every user-provided string is escaped; the plan
graph is embedded as SVG when Graphviz is installed, as a textual ordering otherwise.
"""
from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from engine.knowledge import Knowledge

from .render import OUTCOME, STATUS, TYPE, WORDS, budget_text, da


def _plan_svg(result: dict) -> Markup | None:
    """The plan graph as inline SVG, or None when Graphviz is not available."""
    import shutil
    if not result["plan"] or shutil.which("dot") is None:
        return None
    from engine import graph
    g, ranks = graph.plan_graph(result["plan"])
    svg = graph.render_with_graphviz(graph.to_dot(g, "plan", ranks), "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]                       # drop the XML prolog and doctype
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)   # Graphviz comments may echo labels
    return Markup(svg)


def _ranks(result: dict) -> list[list[dict]]:
    """Steps grouped by rank (the steps of one rank can run in parallel): a textual graph."""
    from engine import graph
    _, ranks = graph.plan_graph(result["plan"])
    by_key = {}
    for step in result["plan"]:
        key = (f"fiche:{step['fiche']}" + (f":{step['part']}" if step.get("part") else "")
               if step["kind"] == "fiche" else step["id"])
        by_key[key] = step
    return [sorted((by_key[k] for k in rank), key=lambda s: s["step"]) for rank in ranks]


def assessment_html(result: dict, kb: Knowledge, lang: str = "fr") -> str:
    env = Environment(loader=PackageLoader("interview", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html")
    fiches = {n: kb.fiche(n) for n in kb.fiches}
    return template.render(r=result, kb=kb, fiches=fiches, w=WORDS[lang], st=STATUS[lang], oc=OUTCOME[lang],
                           types=TYPE[lang], lang=lang, da=da, budget_text=budget_text,
                           svg=_plan_svg(result), ranks=_ranks(result),
                           caveats=kb.guide["caveats"])
