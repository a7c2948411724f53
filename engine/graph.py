"""The dependency graph: what each fiche needs, what it brings about, and in which order.

Built from the knowledge (prerequisites, `provides`, preparation ↔ acquisition pairs),
checked acyclic, and rendered for `pnman graph` (dot, mermaid; svg/png via Graphviz).
"""
from __future__ import annotations

import shutil
import subprocess

import networkx as nx

from .errors import KnowledgeError, PnmanError
from .knowledge import Knowledge


def knowledge_graph(kb: Knowledge) -> nx.DiGraph:
    """Nodes `fiche:N` and `fact:X`; edges fact → fiche (needed by), fiche → fact (brings about),
    preparation fiche → acquisition fiche."""
    g = nx.DiGraph()
    for number, fiche in kb.fiches.items():
        g.add_node(f"fiche:{number}", kind="fiche", fiche=number, label=f"{number}. {short_title(fiche.title)}")
        for condition in kb.conditions[number]:
            if condition.kind != "prerequisite":
                continue
            for fact in condition.facts:
                g.add_node(f"fact:{fact}", kind="fact", label=fact)
                g.add_edge(f"fact:{fact}", f"fiche:{number}", rule=condition.id)
        for fact in fiche.provides:
            g.add_node(f"fact:{fact}", kind="fact", label=fact)
            g.add_edge(f"fiche:{number}", f"fact:{fact}", rule=f"f{number}.provides.{fact}")
        if fiche.pair and "acquisition" in fiche.pair:
            g.add_edge(f"fiche:{number}", f"fiche:{fiche.pair['acquisition']}", rule=f"f{number}.pair.preparation")
    return g


def fiche_order_graph(kb: Knowledge) -> nx.DiGraph:
    """Fiche-to-fiche projection: A → B when A brings about something B needs, or prepares B."""
    full = knowledge_graph(kb)
    g = nx.DiGraph()
    g.add_nodes_from(n for n in kb.fiches)
    for source, target, data in full.edges(data=True):
        if source.startswith("fiche:") and target.startswith("fiche:"):
            g.add_edge(int(source[6:]), int(target[6:]), rule=data["rule"])
        elif source.startswith("fiche:") and target.startswith("fact:"):
            for _, needer in full.out_edges(target):
                if needer != source:
                    g.add_edge(int(source[6:]), int(needer[6:]), rule=f"{data['rule']}→{needer}")
    return g


def check_acyclic(kb: Knowledge) -> None:
    g = fiche_order_graph(kb)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    path = " → ".join(f"fiche {a}" for a, _ in cycle) + f" → fiche {cycle[0][0]}"
    raise KnowledgeError(f"the dependency graph has a cycle: {path}")


def short_title(title: str) -> str:
    return title if len(title) <= 48 else title[:45] + "…"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(g: nx.DiGraph, title: str, ranks: list[list[str]] | None = None) -> str:
    lines = [f'digraph "{_dot_escape(title)}" {{', "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for node, data in sorted(g.nodes(data=True)):
        shape = "box" if data.get("kind") in ("fiche",) else "ellipse"
        style = ', style="rounded,filled", fillcolor="#e8f0fe"' if data.get("kind") == "fiche" else ""
        if data.get("kind") == "company_action":
            style = ', style="filled", fillcolor="#fff4e0"'
        lines.append(f'  "{_dot_escape(node)}" [label="{_dot_escape(data.get("label", node))}", shape={shape}{style}];')
    for rank in ranks or []:
        members = " ".join(f'"{_dot_escape(n)}";' for n in rank)
        lines.append(f"  {{ rank=same; {members} }}")
    for a, b in sorted(g.edges()):
        lines.append(f'  "{_dot_escape(a)}" -> "{_dot_escape(b)}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(g: nx.DiGraph) -> str:
    ids = {node: f"n{i}" for i, node in enumerate(sorted(g.nodes()))}
    lines = ["flowchart LR"]
    for node, data in sorted(g.nodes(data=True)):
        label = str(data.get("label", node)).replace('"', "'")
        if data.get("kind") == "fiche":
            lines.append(f'  {ids[node]}["{label}"]')
        else:
            lines.append(f'  {ids[node]}("{label}")')
    for a, b in sorted(g.edges()):
        lines.append(f"  {ids[a]} --> {ids[b]}")
    return "\n".join(lines) + "\n"


def render_with_graphviz(dot_source: str, fmt: str) -> bytes:
    """svg/png through Graphviz's `dot`; a clear error when it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise PnmanError(f"--format {fmt} needs Graphviz's 'dot' program, which is not installed "
                         "(Debian: apt-get install graphviz); --format dot or mermaid work without it")
    done = subprocess.run([exe, f"-T{fmt}"], input=dot_source.encode("utf-8"), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise PnmanError(f"Graphviz failed: {done.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return done.stdout


def plan_graph(steps: list[dict]) -> tuple[nx.DiGraph, list[list[str]]]:
    """A plan (its steps, as in a result) as a graph, and its generations: the steps on one
    rank can run in parallel."""
    g = nx.DiGraph()
    main_key: dict[int, str] = {}
    for step in steps:
        if step["kind"] == "fiche":
            key = f"fiche:{step['fiche']}" + (f":{step['part']}" if step.get("part") else "")
            part = {"preparation": " (préparation)", "post_erp": " (Post-ERP)"}.get(step.get("part"), "")
            g.add_node(key, kind="fiche", label=f"{step['step']}. Fiche {step['fiche']}{part} – {short_title(step['title'])}")
            if step.get("part") != "post_erp":
                main_key[step["fiche"]] = key
        else:
            g.add_node(step["id"], kind="company_action", label=f"{step['step']}. {step['label']}")
    for step in steps:
        if step["kind"] == "fiche":
            key = f"fiche:{step['fiche']}" + (f":{step['part']}" if step.get("part") else "")
            for before in step.get("after", []):
                g.add_edge(main_key[before], key)
        else:
            for needer in step["needed_by"]:
                g.add_edge(step["id"], main_key[needer])
    ranks = [sorted(gen) for gen in nx.topological_generations(g)]
    return g, ranks
