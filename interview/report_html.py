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


def _plan_svg(result: dict, kb: Knowledge) -> Markup | None:
    """The plan graph as inline SVG, or None when Graphviz is not available."""
    import shutil
    if not result["plan"] or shutil.which("dot") is None:
        return None
    from engine import graph
    from engine.evaluate import evaluate
    from engine.planner import build_plan
    from engine.profile import check_profile
    plan = build_plan(evaluate(check_profile(result["profile"], kb), kb), kb)
    g, ranks = graph.plan_graph(plan, kb)
    svg = graph.render_with_graphviz(graph.to_dot(g, "plan", ranks), "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]                       # drop the XML prolog and doctype
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)   # Graphviz comments may echo labels
    return Markup(svg)


def _ranks(result: dict) -> list[list[dict]]:
    """Steps grouped by the earliest rank they can run at (a textual graph)."""
    position = {}
    ranks: list[list[dict]] = []
    keyed = {}
    for step in result["plan"]:
        key = (step.get("fiche"), step.get("part")) if step["kind"] == "fiche" else step["id"]
        keyed[key] = step
    for step in result["plan"]:
        if step["kind"] == "company_action":
            rank = 0
        else:
            before = [position[k] for k in position if isinstance(k, tuple) and k[0] in step.get("after", [])]
            rank = (max(before) + 1) if before else 1
            position[(step["fiche"], step.get("part"))] = rank
        while len(ranks) <= rank:
            ranks.append([])
        ranks[rank].append(step)
    return [r for r in ranks if r]


def assessment_html(result: dict, kb: Knowledge, lang: str = "fr") -> str:
    env = Environment(loader=PackageLoader("interview", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html")
    fiches = {n: kb.fiche(n) for n in kb.fiches}
    return template.render(r=result, kb=kb, fiches=fiches, w=WORDS[lang], st=STATUS[lang], oc=OUTCOME[lang],
                           types=TYPE[lang], lang=lang, da=da, budget_text=budget_text,
                           svg=_plan_svg(result, kb), ranks=_ranks(result),
                           caveats=kb.guide["caveats"])
