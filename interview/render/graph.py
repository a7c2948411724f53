"""Graph pictures for `pnman graph` and the report: dot, mermaid, and svg/png via Graphviz.

The dependency graph itself is the knowledge's (built at load); a plan's graph is made
from the steps of a record. This module only gives them labels and a drawing.
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap

import networkx as nx

from pnman.engine.steps import step_label
from pnman.knowledge.errors import Phrase, PnmanError
from pnman.knowledge.loader import Knowledge

from .l10n import Words
from .safe import plain


LABEL_WIDTH = 34       # characters a line of a node's label, so that a printed graph stays legible


def short_title(title: str) -> str:
    """A title for a node (fiches have a short title of their own: Words.fiche_title); a
    long one is cut between words, never inside one."""
    if len(title) <= 48:
        return title
    return textwrap.shorten(title, width=48, placeholder=" …")


def isolated(text: str, w: Words) -> str:
    """A French title inside a right-to-left label, between Unicode isolates (FSI … PDI):
    the bidi algorithm then keeps its words, and the figures around it, in order."""
    return f"\u2068{text}\u2069" if w.cat.direction == "rtl" else text


def labelled_knowledge_graph(kb: Knowledge, w: Words) -> nx.DiGraph:
    """The guide's dependency graph with a person's labels on its nodes."""
    g = kb.graph.full.copy()
    for node, data in g.nodes(data=True):
        if data["kind"] == "fiche":
            data["label"] = f"{data['fiche']}. {isolated(short_title(w.fiche_title(data['fiche'])), w)}"
        else:
            data["label"] = w.fact(data["fact"])
    return g


def plan_graph(steps: list[dict], w: Words) -> tuple[nx.DiGraph, list[list[str]]]:
    """A plan (the steps of a localised record) as a graph, and its generations: the steps
    on one rank can run in parallel. A coaching that goes on during its acquisition (the
    step's `runs_alongside`) is kept apart, in `g.graph["alongside"]` as (coaching, acquisition,
    words): it is drawn, and orders nothing."""
    g = nx.DiGraph()
    main_key: dict[int, str] = {}
    after_parts = {s["part"] for s in steps if s["kind"] == "fiche" and s.get("part")
                   and w.kb.fiche(s["fiche"]).straddles and w.kb.fiche(s["fiche"]).straddles.after == s["part"]}
    for step in steps:
        key = step_label(step)
        if step["kind"] == "fiche":
            part = f" ({w.part(step['part'])})" if step.get("part") else ""
            g.add_node(key, kind="fiche", label=w("graph.step", step=step["step"], fiche=step["fiche"], part=part,
                                                   title=isolated(short_title(w.fiche_title(step["fiche"])), w)))
            if step.get("part") not in after_parts:
                main_key[step["fiche"]] = key
        else:
            g.add_node(key, kind="company_action", label=w("graph.action", step=step["step"], label=step["label"]))
    for step in steps:
        if step["kind"] == "fiche":
            for before in step.get("after", []):
                g.add_edge(main_key[before], step_label(step))
        else:
            for needer in step["needed_by"]:
                g.add_edge(step_label(step), main_key[needer])
    g.graph["alongside"] = [(step_label(step), main_key[step["runs_alongside"]], w("graph.alongside"))
                            for step in steps if step["kind"] == "fiche"
                            and step.get("runs_alongside") in main_key]
    ranks = [sorted(gen) for gen in nx.topological_generations(g)]
    return g, ranks


def _dot_escape(text: str) -> str:
    return plain(text).replace("\\", "\\\\").replace('"', '\\"')


def _label_escape(text: str) -> str:
    """A node label: escaped as any text, but for the isolates `isolated` puts around a
    French title (an isolate cannot reorder anything outside itself)."""
    return _dot_escape(text).replace("\\\\u2068", "\u2068").replace("\\\\u2069", "\u2069")


def to_dot(g: nx.DiGraph, title: str, ranks: list[list[str]] | None = None, rankdir: str = "LR",
           fontsize: int = 10) -> str:
    lines = [f'digraph "{_dot_escape(title)}" {{', f"  rankdir={rankdir};",
             f'  node [fontname="Helvetica", fontsize={fontsize}];']
    for node, data in sorted(g.nodes(data=True)):
        shape = "box" if data.get("kind") == "fiche" else "ellipse"
        style = ', style="rounded,filled", fillcolor="#e8f0fe"' if data.get("kind") == "fiche" else ""
        if data.get("kind") == "company_action":
            style = ', style="filled", fillcolor="#fff4e0"'
        label = "\\n".join(_label_escape(line) for line in
                            textwrap.wrap(str(data.get("label", node)), LABEL_WIDTH, break_long_words=False) or [""])
        lines.append(f'  "{_dot_escape(node)}" [label="{label}", shape={shape}{style}];')
    for rank in ranks or []:
        members = " ".join(f'"{_dot_escape(n)}";' for n in rank)
        lines.append(f"  {{ rank=same; {members} }}")
    for a, b in sorted(g.edges()):
        lines.append(f'  "{_dot_escape(a)}" -> "{_dot_escape(b)}";')
    for a, b, words in g.graph.get("alongside", ()):
        # dashed, no arrow, and no constraint: the two run at once, neither orders the other
        lines.append(f'  "{_dot_escape(a)}" -> "{_dot_escape(b)}" [style=dashed, dir=none, constraint=false, fontname="Helvetica", '
                     f'color="#5f6368", fontcolor="#3c4043", fontsize={fontsize - 1}, label="{_label_escape(words)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(g: nx.DiGraph) -> str:
    ids = {node: f"n{i}" for i, node in enumerate(sorted(g.nodes()))}
    lines = ["flowchart LR"]
    for node, data in sorted(g.nodes(data=True)):
        label = plain(data.get("label", node)).replace('"', "'")
        if data.get("kind") == "fiche":
            lines.append(f'  {ids[node]}["{label}"]')
        else:
            lines.append(f'  {ids[node]}("{label}")')
    for a, b in sorted(g.edges()):
        lines.append(f"  {ids[a]} --> {ids[b]}")
    for a, b, words in g.graph.get("alongside", ()):
        lines.append(f'  {ids[a]} -.-|"{plain(words).replace(chr(34), chr(39))}"| {ids[b]}')
    return "\n".join(lines) + "\n"


def render_with_graphviz(dot_source: str, fmt: str) -> bytes:
    """svg/png through Graphviz's `dot`; a clear error when it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise PnmanError(Phrase("tools.graphviz", format=fmt))
    done = subprocess.run([exe, f"-T{fmt}"], input=dot_source.encode("utf-8"), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise PnmanError(Phrase("tools.graphviz_failed", problem=done.stderr.decode("utf-8", "replace").strip()[:300]))
    return done.stdout
