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
