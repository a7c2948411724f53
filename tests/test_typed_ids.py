"""Ids one part of pnman builds are read as fields by the others, never parsed back (issue 22).

The trace finds a firing's test in the compile step's table; a reason's `derived_by` is the
implication the evaluation names; a contradiction carries its rules as a tuple, and the
record's joined `rule` (contract §4, kept by stored records) is read back by one inverse.
"""
from __future__ import annotations

import pytest

from pnman.engine.plan_warnings import contradiction_rules, contradiction_warning
from pnman.interview.render.l10n import Words, implied_words
from pnman.knowledge.profile import check_profile
from pnman.rules import compile as rules_compile
from pnman.rules.evaluate import Contradiction, evaluate

from tests.conftest import record_of

# « no IT » and « a network »: it_infrastructure is implied false by the one and true by the
# other (two rules disagree on a fact nobody states), and the stated facts are denied.
CONTRADICTORY = {"employees": 20, "uses_it": False, "local_network": True, "local_server": True}


def test_the_compile_table_names_the_test_of_every_fact_test_rule(kb):
    definition = rules_compile.definition(kb)
    table = rules_compile.rule_tests(kb)
    fact_test_rules = set(definition) - {rules_compile.BEGIN, rules_compile.SINK} - set(kb.implication)
    assert set(table) == fact_test_rules and len(table) == 2 * len(kb.tests())
    for rule_id, test in table.items():
        pattern = definition[rule_id]["all"][0]["m"]["$and"][0]
        assert pattern == {"name": rules_compile.fact_name(test)}
        assert rule_id in {rules_compile.outcome_rule(test, o) for o in rules_compile.OUTCOMES}


def test_a_trace_entry_cites_the_conditions_of_the_test_its_rule_decides(kb):
    record = record_of(check_profile(CONTRADICTORY, kb), kb)
    table = rules_compile.rule_tests(kb)
    tested = [entry for entry in record["trace"] if entry["rule"] in table]
    assert len(tested) >= 5
    for entry in tested:
        test = table[entry["rule"]]
        users = [c.id for conditions in kb.conditions.values() for c in conditions if test in c.tests]
        assert entry["conditions"] == users and users


def test_derived_by_names_the_implication_that_gave_the_fact(kb):
    evaluation = evaluate(check_profile({"employees": 20, "uses_it": False}, kb), kb)
    assert evaluation.facts["it_infrastructure"].source == "implies.no_it.no_infrastructure"
    record = record_of(check_profile({"employees": 20, "uses_it": False}, kb), kb)
    derived = {(r["fact"], r["derived_by"]) for f in record["fiches"] for r in f["reasons"] if "derived_by" in r}
    assert ("it_infrastructure", "implies.no_it.no_infrastructure") in derived
    assert all(evaluation.facts[fact].source == rule for fact, rule in derived)
    assert not any("derived_by" in r for f in record_of(check_profile({"employees": 20, "uses_it": True}, kb), kb)["fiches"]
                   for r in f["reasons"] if r["fact"] == "uses_it")


def test_a_contradiction_carries_its_rules_as_a_tuple(kb):
    evaluation = evaluate(check_profile(CONTRADICTORY, kb), kb)
    found = {c.fact: c for c in evaluation.contradictions}
    both = found["it_infrastructure"]
    assert both == Contradiction("it_infrastructure", None, (False, True),
                                 ("implies.network.infrastructure", "implies.no_it.no_infrastructure"))
    assert all(isinstance(c.rules, tuple) and len(c.rules) == 1 for c in evaluation.contradictions if c.stated is not None)


def test_the_record_keeps_the_contract_form_and_reads_it_back(kb):
    evaluation = evaluate(check_profile(CONTRADICTORY, kb), kb)
    record = record_of(check_profile(CONTRADICTORY, kb), kb)
    warnings = [w["figures"] for w in record["warnings"] if w["code"] == "contradictory_facts"]
    assert {"fact": "it_infrastructure", "stated": None, "implied": [False, True],
            "rule": "implies.network.infrastructure,implies.no_it.no_infrastructure"} in warnings
    assert len(warnings) == len(evaluation.contradictions)
    for contradiction in evaluation.contradictions:
        figures = contradiction_warning(contradiction).figures
        assert contradiction_rules(figures) == contradiction.rules


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_warning_names_every_disagreeing_implication(kb, lang):
    record = record_of(check_profile(CONTRADICTORY, kb), kb, lang=lang)
    words = Words(lang, kb)
    message = next(w["message"] for w in record["warnings"]
                   if w["code"] == "contradictory_facts" and w["figures"]["fact"] == "it_infrastructure")
    for rule in ("implies.network.infrastructure", "implies.no_it.no_infrastructure"):
        assert implied_words(words, rule) in message
        assert rule not in message


def test_a_full_records_blocking_conditions_are_the_knowledges_clauses(kb):
    from pnman.engine.facade import assess
    from pnman.interview.cli.batch.assessing import compact
    from pnman.interview.cli.batch.summary import summary_fields
    profile = check_profile({"employees": 400, "uses_it": False}, kb)   # too big: size fails
    assessment = assess(profile, kb)
    full = summary_fields({"record": assessment.record(timestamp="t")}, kb)
    short = summary_fields(compact(assessment.evaluation, assessment.plan, kb), kb)
    assert full == short and full["blocking"]
    assert all(clause in {c.clause for c in kb.condition.values()} for clause in full["blocking"])
    edited = {"record": {"fiches": [{"fiche": 1, "status": "ineligible", "conditions": [
        {"id": "f1.not.a.known.condition", "kind": "eligibility", "outcome": "failed"}]}], "totals": {}}}
    assert summary_fields(edited, kb)["blocking"] == ["f1.not.a.known.condition"]


def test_the_dependency_graph_reads_typed_nodes(kb):
    from pnman.knowledge.graph import Node
    assert kb.graph.edges and all(isinstance(a, Node) and isinstance(b, Node) for a, b, _ in kb.graph.edges)
    assert {a.kind for a, _, _ in kb.graph.edges} == {"fact", "fiche"}
    assert all(isinstance(n.name, int) for a, b, _ in kb.graph.edges for n in (a, b) if n.kind == "fiche")
    drawn = kb.graph.full
    assert set(drawn.nodes) == {n.id for a, b, _ in kb.graph.edges for n in (a, b)} | {f"fiche:{n}" for n in kb.fiches}
    assert drawn.has_edge("fiche:16", "fact:local_network") and kb.graph.providers("local_network") == [13, 16]


def test_a_size_test_reads_its_range_as_fields(kb):
    from pnman.knowledge.conditions import SizeRange
    size_tests = [t for t in kb.tests() if t.op == "size"]
    assert size_tests and all(isinstance(t.value, SizeRange) for t in size_tests)
    test = size_tests[0]
    low, high = min(c.min for c in kb.size_classes), max(c.max for c in kb.size_classes)
    assert test.value == (low, high) and test.id == f"test.employees.size.{low}-{high}"
    met = rules_compile.definition(kb)[rules_compile.outcome_rule(test, "met")]["all"][0]["m"]["$and"]
    assert {"$gte": {"value": low}} in met and {"$lte": {"value": high}} in met
    record = record_of(check_profile({"employees": high + 1}, kb), kb)
    assert any(r["op"] == "size" and r["expected"] == f"{low}-{high}" for f in record["fiches"] for r in f["reasons"])


def test_amounts_are_named_by_the_knowledge_not_by_a_suffix():
    from pnman.knowledge.editions import AMOUNTS, GROUPS
    names = {name for fields, _ in GROUPS.values() for name in fields}
    assert AMOUNTS <= names and {n for n in names if n.endswith("_da_ht")} == AMOUNTS


def test_a_justification_in_stars_is_not_made_bold_in_markdown(kb, monkeypatch):
    from types import SimpleNamespace
    from pnman.interview.render import registry as shown_words
    from pnman.interview.render.l10n import Words
    row = {"fiche": 2, "title": "Acquisition GPAO", "engine": "conditional", "status": "eligible", "by": "A. Diag",
           "at": "2026-01-01", "reason": "other", "justification": "**written by the diagnostician**",
           "state": "in force", "id": "x"}
    monkeypatch.setattr(shown_words, "override_rows", lambda shown, w: [row])
    record = record_of(check_profile({"employees": 20}, kb), kb, lang="en")
    entry = SimpleNamespace(id="1-abcdef", seq=1, created_at="2026-01-01T00:00:00+00:00", hash="h",
                            prev_hash=None, payload={})
    text = shown_words.show_markdown(SimpleNamespace(entry=entry), record, None, Words("en", kb))
    line = next(x for x in text.splitlines() if "written by the diagnostician" in x)
    assert "\\*\\*written by the diagnostician\\*\\*" in line and "| **eligible** |" in line


def test_clips_tells_a_stated_fact_by_a_slot_not_by_its_id(kb):
    pytest.importorskip("clips")
    from pnman.rules.clips_engine import ClipsEngine, constructs
    from pnman.rules.evaluate import profile_facts
    built, _ = constructs(kb)
    assert not any("attr:" in construct or "sub-string" in construct for construct in built)
    assert "(slot stated (default TRUE))" in built[0]
    # a stated local_network: false wins over implies.server.network, which fires suppressed
    facts = profile_facts(check_profile({"employees": 20, "local_server": True, "local_network": False}, kb), kb)
    firings = ClipsEngine(kb).run(facts)
    assert any(f.rule == "implies.server.network" and f.suppressed for f in firings)
    assert not any(f.rule == "implies.server.network" and not f.suppressed for f in firings)
    assert not any(f.rule == "implies.network.infrastructure" for f in firings)     # nothing chains from it


@pytest.mark.parametrize("argv, command", [
    (["keys", "new"], "pnman keys new"), (["users", "add"], "pnman users add"),
    (["registry", "list", "--since"], "pnman registry list"), (["assess"], "pnman assess"),
])
def test_a_refusal_names_the_whole_command_it_came_from(capsys, argv, command):
    from pnman.interview.cli.main import main
    from tests.conftest import one_clean_line
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and one_clean_line(err) and f"see '{command} --help'" in err, err
