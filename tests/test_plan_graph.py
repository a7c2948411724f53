"""The plan graph draws « alongside »: a coaching that goes on during its acquisition
(fiches 22, 24, 26 beside 23, 25, 27; knowledge `alongside:`) is a dashed, labelled line
that orders nothing (issue 22)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pnman.interview.render import graph
from pnman.interview.render.l10n import Words
from pnman.knowledge.profile import load_profile

from tests.conftest import record_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _plan(name: str, kb, lang: str):
    words = Words(lang, kb)
    record = record_of(load_profile(str(EXAMPLES / name), kb), kb, lang=lang)
    return record, words


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_a_coaching_that_runs_alongside_its_acquisition_is_a_dashed_labelled_line(kb, lang):
    record, w = _plan("pe-internet.yaml", kb, lang)
    alongside = {(s["fiche"], s["runs_alongside"]) for s in record["plan"] if s.get("runs_alongside") is not None}
    assert alongside == {(22, 23), (26, 27)}
    g, ranks = graph.plan_graph(record["plan"], w)
    assert [(a, b) for a, b, _ in g.graph["alongside"]] == [("f22", "f23"), ("f26", "f27")]
    dot = graph.to_dot(g, "plan", ranks)
    for a, b in (("f22", "f23"), ("f26", "f27")):
        line = next(x for x in dot.splitlines() if x.startswith(f'  "{a}" -> "{b}" ['))
        assert "style=dashed" in line and "constraint=false" in line and f'label="{w("graph.alongside")}"' in line
    assert w("graph.alongside") not in ("", "graph.alongside")
    mermaid = graph.to_mermaid(g)
    assert mermaid.count(f'-.-|"{w("graph.alongside")}"|') == 2


def test_alongside_orders_nothing(kb):
    record, w = _plan("pe-internet.yaml", kb, "fr")
    g, ranks = graph.plan_graph(record["plan"], w)
    without = [dict(step, runs_alongside=None) for step in record["plan"]]
    g2, ranks2 = graph.plan_graph(without, w)
    assert ranks == ranks2 and sorted(g.edges()) == sorted(g2.edges()) and g2.graph["alongside"] == []
    assert "style=dashed" not in graph.to_dot(g2, "plan", ranks2)


def test_a_plan_without_such_coaching_has_no_dashed_line(kb):
    record, w = _plan("pme-industrielle.yaml", kb, "en")
    g, ranks = graph.plan_graph(record["plan"], w)
    assert g.graph["alongside"] == [] and "style=dashed" not in graph.to_dot(g, "plan", ranks)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_report_svg_shows_the_words(kb, lang):
    from pnman.interview.render.html import plan_svg
    record, w = _plan("pe-internet.yaml", kb, lang)
    svg = str(plan_svg(record, w))
    assert svg.count(w("graph.alongside")) == 2 and 'stroke-dasharray' in svg
