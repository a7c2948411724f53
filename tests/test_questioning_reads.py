"""The questioning's shortcuts (engine/plan_reads.py: signatures found by what the plan
reads, questions whose answer cannot change any read skipped) ask the same questions as the
plain usefulness test, which evaluates and plans every « what if »."""
from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.portfolio import profiles as portfolio
from pnman.engine import plan_reads, questioning
from pnman.engine.facade import assess
from pnman.engine.planner import build_plan, requested_fiches
from pnman.engine.questioning import _alternatives, called_for, is_useful, next_question, outcome, relevant_facts
from pnman.engine.record import canonical_json
from pnman.knowledge.profile import check_profile
from pnman.rules.evaluate import evaluate, evaluate_trial
from strategies import KB, profiles

SETTINGS = settings(max_examples=int(__import__("os").environ.get("PNMAN_EXAMPLES", 60)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# Companies the population conditions let in: their plans read the fiches' conditions.
OPEN = {"employees": 20, "pnman_member": True, "diagnostic_approved": True, "general_conditions": True,
        "recommendations": list(KB.facts["recommendations"].choices)}
mostly_open = st.one_of(profiles(max_goals=2), profiles(max_goals=2).map(lambda p: {**p, **OPEN}))


def plain_signature(evaluation, kb) -> str:
    """An outcome's signature from the evaluation itself, planned in full (the reference)."""
    plan = build_plan(evaluation, kb)
    relevant = {n for n, _ in requested_fiches(evaluation.profile, kb)}
    relevant.update(s.fiche for s in plan.steps if s.id.is_fiche)
    return canonical_json({"plan": plan.records(), "totals": plan.totals,
                           "statuses": {str(n): evaluation.status(n) for n in sorted(relevant)}})


def plain_useful(key, answers, kb) -> bool:
    """is_useful as it was before the shortcuts: every alternative evaluated and planned."""
    if key not in answers and called_for(key, outcome(answers, kb)):     # not a shortcut: the same rule
        return True
    signatures = {plain_signature(evaluate(answers, kb), kb)} if key not in answers else set()
    for value in _alternatives(key, kb):
        signatures.add(plain_signature(evaluate_trial({**answers, key: value}, kb), kb))
    return len(signatures) > 1


def candidates(answers, kb):
    return [k for k in relevant_facts(answers, kb) if k not in answers and kb.facts[k].role not in ("identity", "request")]


def warm_tree(kb, count=40, seed=5):
    """Fill the signature tree with the outcomes of other companies' interviews."""
    rng = random.Random(seed)
    for profile in portfolio(count, seed=seed):
        answers = {k: v for k, v in profile.items() if k in ("employees", "goals") or rng.random() < 0.4}
        current = outcome(answers, kb)
        for key in candidates(answers, kb)[:6]:
            is_useful(key, answers, current, kb)


@SETTINGS
@given(mostly_open, st.randoms(use_true_random=False))
# fiche 13 (start_it) closed by an implied fact (management software: uses IT): stating it reopens the fiche
@example({**OPEN, "goals": ["start_it"], "management_software": True}, random.Random(0))
def test_the_same_questions_are_useful_as_with_every_trial_planned(profile, rng):
    warm_tree(KB, count=3, seed=rng.randrange(1000))
    answers = {k: v for k, v in profile.items() if k != "name"}
    current = outcome(answers, KB)
    assert current.signature == plain_signature(evaluate(answers, KB), KB)
    for key in candidates(answers, KB):
        assert is_useful(key, answers, current, KB) == plain_useful(key, answers, KB), key


@SETTINGS
@given(profiles(max_goals=2), st.data())
def test_a_signature_found_in_the_tree_is_the_planned_one(profile, data):
    warm_tree(KB, count=2, seed=data.draw(st.integers(0, 1000)))
    keys = candidates(profile, KB) or list(KB.facts)
    key = data.draw(st.sampled_from(sorted(keys)))
    for value in _alternatives(key, KB) or [None]:
        trial = {**profile, key: value} if value is not None else dict(profile)
        questioning._TRIALS.clear()
        assert questioning.trial_signature(trial, KB) == plain_signature(evaluate_trial(trial, KB), KB)


def variations(profile, kb):
    """The profile, and every profile one answer away from it: another answer, or none."""
    found = [dict(profile)]
    for key in kb.facts:
        if kb.facts[key].role in ("identity", "request"):
            continue
        found.extend({**profile, key: value} for value in _alternatives(key, kb) if profile.get(key) != value)
        if key in profile and key != "employees":
            found.append({k: v for k, v in profile.items() if k != key})
    return found


@SETTINGS
@given(mostly_open, st.randoms(use_true_random=False))
# e-marketing needs a website or an e-commerce site: which of the two is still unknown changes the plan's check
@example({**OPEN, "goals": ["emarketing"], "web_staff": False}, random.Random(0))
def test_companies_one_answer_apart_get_the_signature_they_would_be_planned(profile, rng):
    """Near misses are where a tree that compares too little would answer wrongly: every
    profile one answer away, in any order, through one tree."""
    tree = plan_reads.SignatureTree()
    found = variations(profile, KB)
    rng.shuffle(found)
    for answers in found:
        evaluation = evaluate_trial(answers, KB)
        signature = plan_reads.signed(evaluation, lambda reading: questioning._signed(reading, KB)[1], tree)
        assert signature == plain_signature(evaluation, KB), answers


def test_the_shortcuts_do_answer_most_trials(monkeypatch):
    """Over interviews alike, the tree answers most « what if »s (else it costs for nothing)
    and some questions need no trial at all."""
    questioning._TRIALS.clear()
    questioning._OUTCOMES.clear()
    tree = questioning._signatures(KB)
    counts = {"found": 0, "planned": 0, "skipped": 0}
    find = tree.find

    def counting_find(evaluation):
        signature = find(evaluation)
        counts["found" if signature is not None else "planned"] += 1
        return signature
    monkeypatch.setattr(tree, "find", counting_find)
    for profile in portfolio(30, seed=11):
        answers, asked = {}, set()
        while (key := next_question(answers, KB, asked=asked)) is not None:
            asked.add(key)
            if profile.get(key) is not None:
                answers[key] = profile[key]
            current = outcome(answers, KB)
            counts["skipped"] += sum(plan_reads.cannot_change(other, current.reads, current.evaluation, KB)
                                     for other in candidates(answers, KB))
    assert counts["found"] > 2 * counts["planned"] and counts["skipped"] > 0, counts


def test_an_ineligible_fiche_tested_for_use_alone_reads_alike_whatever_else_it_lacks(kb):
    """Fiche 4 closed to a company of 3 people (its size) plans alike whatever the company
    says of fiche 4's prerequisites: one signature, found in the tree, serves both."""
    small = {"employees": 3, "goals": ["gmao"]}
    other = {"employees": 3, "goals": ["gmao"], "machines_db": True}
    one, two = evaluate_trial(small, kb), evaluate_trial(other, kb)
    assert one.statuses[4] is not two.statuses[4] and one.statuses[4].status == two.statuses[4].status == "ineligible"
    tree = plan_reads.SignatureTree()
    signature = plan_reads.signed(one, lambda reading: questioning._signed(reading, kb)[1], tree)
    assert tree.find(two) == signature == plain_signature(two, kb)
    assert tree.find(evaluate_trial({**small, "employees": 30}, kb)) is None     # fiche 4 open: another plan


def test_an_answer_that_cannot_reopen_a_closed_fiche_needs_no_trial(kb):
    """A company of 3 people asking for GMAO (fiche 4, closed to it by its size): the answers to
    fiche 4's other conditions cannot change the outcome, and are known not to without a trial;
    the headcount can."""
    answers = {"employees": 3, "goals": ["gmao"]}
    current = outcome(answers, kb)
    assert current.evaluation.status(4) == "ineligible"
    for key in ("machines_db", "pnman_member", "diagnostic_approved"):
        assert plan_reads.cannot_change(key, current.reads, current.evaluation, kb)
        assert not plain_useful(key, answers, kb)
    assert not plan_reads.cannot_change("employees", current.reads, current.evaluation, kb)
    bigger = {**answers, "general_conditions": True, "pnman_member": True}
    assert not plan_reads.cannot_change("employees", outcome(bigger, kb).reads, outcome(bigger, kb).evaluation, kb)


def test_the_signature_tree_is_bounded(kb):
    tree = plan_reads.SignatureTree(limit=60)
    for profile in portfolio(40, seed=3):
        evaluation = evaluate_trial(profile, kb)
        signature = plan_reads.signed(evaluation, lambda reading: questioning._signed(reading, kb)[1], tree)
        assert signature == plain_signature(evaluation, kb)
        assert tree.nodes <= 60


@SETTINGS
@given(mostly_open)
def test_the_questionings_assessment_is_the_rules_engines_byte_for_byte(profile):
    """An interview's result is made from the outcome its last answer already has: the same
    record, to the byte, as assessing the answers afresh; and answers changed afterwards do
    not change what was kept for them."""
    answers = dict(check_profile(profile, KB))
    questioning._OUTCOMES.clear()
    kept = questioning.assessment(answers, KB)
    assert canonical_json(kept.record(timestamp="t")) == canonical_json(assess(answers, KB).record(timestamp="t"))
    before = canonical_json(answers)
    answers["goals"] = ["erp"] if answers.get("goals") != ["erp"] else ["crm"]
    answers.pop("employees")
    again = questioning.assessment(json.loads(before), KB)
    assert again is not kept or canonical_json(again.evaluation.profile) == before
    assert canonical_json(again.record(timestamp="t")) == canonical_json(assess(json.loads(before), KB).record(timestamp="t"))


def test_the_interview_bench_runs_and_its_baseline_turns_the_shortcuts_off():
    """bench/interview_cpu.py runs; its baseline patches the names the shortcuts go through
    (refusing one that is gone), and asks the same questions (as many answers)."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "bench" / "interview_cpu.py"), "--interviews", "6",
                           "--rounds", "1", "--live", "3"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pnman: ") and lines[1].startswith("baseline ") and "ms CPU per answer" in lines[0]
    assert lines[0].split(": ")[1].split(" answers")[0] == lines[1].split(": ")[1].split(" answers")[0]
