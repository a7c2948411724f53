"""The questioning's plain-Python trials (rules/chaining.py) fire what the rules engine
fires: the same firings, hence the same facts, statuses, contradictions and plan, for any
profile — contradictory ones, unknowns and implied facts included."""
from __future__ import annotations

from collections import Counter

from hypothesis import given, settings

from pnman.engine.planner import build_plan
from pnman.knowledge.profile import check_profile
from pnman.rules.chaining import chain
from pnman.rules.engines import chosen, engine_for
from pnman.rules.evaluate import _shared, evaluate, evaluate_trial, profile_facts
from tests.strategies import KB, profiles


def _firings(firings) -> Counter:
    return Counter((f.rule, f.fact, f.derived, f.suppressed) for f in firings)


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_the_trial_evaluation_equals_the_engines(profile):
    checked = check_profile(profile, KB)
    asserted = profile_facts(checked, KB)
    shared = _shared(KB)            # a table full from earlier tests would empty itself between the two evaluations
    for table in (shared.tests, shared.conditions, shared.statuses):
        table.clear()
    assert _firings(chain(asserted, KB)) == _firings(engine_for(KB, chosen()).run(asserted))
    engine, trial = evaluate(checked, KB), evaluate_trial(checked, KB)
    assert trial.facts == engine.facts
    assert {n: s.status for n, s in trial.statuses.items()} == {n: s.status for n, s in engine.statuses.items()}
    assert all(trial.statuses[n] is engine.statuses[n] for n in engine.statuses)     # shared outcomes
    assert sorted(map(repr, trial.contradictions)) == sorted(map(repr, engine.contradictions))
    assert build_plan(trial, KB).steps == build_plan(engine, KB).steps


def test_a_contradictory_profile_fires_alike():
    implication = KB.implications[0]
    (premise, value), (target, implied) = implication.premise, implication.conclusion
    profile = check_profile({"employees": 30, premise: value, target: not implied}, KB)
    asserted = profile_facts(profile, KB)
    fired = chain(asserted, KB)
    assert any(f.suppressed for f in fired)
    assert _firings(fired) == _firings(engine_for(KB, chosen()).run(asserted))
