"""Invariants of the engine and the planner over random profiles."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from conftest import record_of
from pnman.engine.record import canonical_json
from pnman.knowledge.profile import check_profile
from pnman.rules.evaluate import evaluate
from strategies import KB, profiles

RANK = {"ineligible": 0, "unknown": 1, "conditional": 2, "eligible": 3}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assess(profile):
    return record_of(check_profile(profile, KB), KB)


@SETTINGS
@given(profiles())
def test_plan_is_a_valid_topological_order(profile):
    result = _assess(profile)
    position = {}
    for step in result["plan"]:
        if step["kind"] == "fiche":
            position[(step["fiche"], step.get("part"))] = step["step"]
    for step in result["plan"]:
        if step["kind"] == "fiche":
            for before in step["after"]:
                earlier = [p for (n, _), p in position.items() if n == before]
                assert earlier and min(earlier) < step["step"]
        else:
            for needer in step["needed_by"]:
                assert any(p > step["step"] for (n, _), p in position.items() if n == needer)
    assert [s["step"] for s in result["plan"]] == list(range(1, len(result["plan"]) + 1))


@SETTINGS
@given(profiles())
def test_every_prerequisite_holds_or_is_brought_earlier(profile):
    result = _assess(profile)
    facts = {name: f["value"] for name, f in result["facts"].items()}
    brought: set[str] = set()
    for step in result["plan"]:
        if step["kind"] == "company_action":
            brought.add(step["fact"])
            continue
        entry = result["fiches"][step["fiche"] - 1]
        if step.get("part") != "post_erp":
            for reason in entry["reasons"]:
                if reason["kind"] != "prerequisite":
                    continue
                options = [f["fact"] for f in reason.get("facts", [])] or [reason["fact"]]
                wanted = [f for f in options]
                assert any(facts.get(f) is True or f in brought for f in wanted), (step, reason, brought)
        brought.update(KB.fiche(step["fiche"]).provides)


@SETTINGS
@given(profiles())
def test_no_ineligible_fiche_in_a_plan(profile):
    result = _assess(profile)
    statuses = {e["fiche"]: e["status"] for e in result["fiches"]}
    for step in result["plan"]:
        if step["kind"] == "fiche":
            assert statuses[step["fiche"]] != "ineligible"
            assert step["status"] == statuses[step["fiche"]]


@settings(max_examples=60, deadline=None)
@given(profiles())
def test_output_is_byte_identical_across_runs(profile):
    first = canonical_json(_assess(profile))
    second = canonical_json(_assess(dict(reversed(list(profile.items())))))
    assert first == second


@SETTINGS
@given(profiles())
def test_favourable_answer_never_makes_a_fiche_less_eligible(profile):
    checked = check_profile(profile, KB)
    evaluation = evaluate(checked, KB)
    for number, status in evaluation.statuses.items():
        for outcome in status.conditions:
            for test in outcome.tests:
                if test.outcome != "unknown" or test.test.fact in profile:
                    continue
                changed = dict(profile)
                if test.test.op == "contains":
                    continue  # list facts are never partially unknown
                changed[test.test.fact] = test.test.value   # eq: the expected value; max: the ceiling
                after = evaluate(check_profile(changed, KB), KB).statuses[number].status
                assert RANK[after] >= RANK[status.status], (number, test.test, status.status, after)
                return  # one change per example keeps the test fast


@SETTINGS
@given(profiles())
def test_unknown_never_reported_as_ineligible_by_an_unknown_fact(profile):
    result = _assess(profile)
    for entry in result["fiches"]:
        if entry["status"] == "ineligible":
            assert any(r["outcome"] == "failed" and r["kind"] == "eligibility" for r in entry["reasons"])
        if entry["status"] == "unknown":
            assert entry["unknown_facts"]
            assert not any(r["outcome"] == "failed" and r["kind"] == "eligibility" for r in entry["reasons"])


@SETTINGS
@given(profiles())
def test_totals_are_the_sum_of_plan_budgets(profile):
    result = _assess(profile)
    low = sum(s["budget"].get("total_da_ht", 0) for s in result["plan"] if s["kind"] == "fiche")
    assert result["totals"]["investment_da_ht"]["min"] <= result["totals"]["investment_da_ht"]["max"]
    assert result["totals"]["coaching_days"]["min"] <= result["totals"]["coaching_days"]["max"]
    if all("total_da_ht" in s["budget"] or s["type"] == "coaching" for s in result["plan"] if s["kind"] == "fiche"):
        assert result["totals"]["investment_da_ht"]["min"] <= low <= result["totals"]["investment_da_ht"]["max"]


@SETTINGS
@given(profiles(), profiles(complete=True))
def test_a_stated_status_holds_for_every_completion(profile, filler):
    """Three-valued: a status other than `unknown` must not change when unknown facts become known."""
    before = evaluate(check_profile(profile, KB), KB)
    completed = dict(profile)
    for key, value in filler.items():
        if key not in profile and key not in before.facts and key not in ("goals", "fiches"):
            completed[key] = value
    after = evaluate(check_profile(completed, KB), KB)
    for number, status in before.statuses.items():
        if status.status != "unknown":
            assert after.status(number) == status.status, (number, status.status, after.status(number))
