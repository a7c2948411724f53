"""The CLIPS engine on its own: sessions that leave nothing behind, failures raised,
one caller at a time, the compiled constructs as rules/compile.py defines them."""
from __future__ import annotations

import threading

import pytest

from pnman.knowledge.profile import check_profile
from pnman.rules import compile as rules_compile
from pnman.rules.evaluate import profile_facts

clips = pytest.importorskip("clips", reason="clipspy does not import here")

from pnman.rules.clips_engine import ClipsEngine, constructs, literal  # noqa: E402


@pytest.fixture(scope="module")
def engine(kb):
    return ClipsEngine(kb)


def _facts(kb, **profile):
    return profile_facts(check_profile({"employees": 12, **profile}, kb), kb)


def test_every_rule_of_the_ruleset_is_one_defrule_in_durable_s_order(kb):
    built, ordered = constructs(kb)
    definition = rules_compile.definition(kb)
    assert set(ordered) == set(definition) - {rules_compile.BEGIN, rules_compile.SINK}
    priorities = [definition[rule]["pri"] for rule in ordered]
    assert priorities == sorted(priorities)                 # implications (1) before tests (2)
    assert sum(c.startswith("(defrule") for c in built) == len(ordered)


def test_constants_are_written_as_clips_reads_them():
    assert [literal(v) for v in (True, False, 12, 'a "b" \\c')] == ["TRUE", "FALSE", "12", '"a \\"b\\" \\\\c"']
    with pytest.raises(ValueError):
        literal(1.5)


def test_a_session_leaves_no_fact_behind(engine, kb):
    for profile in ({"uses_it": False}, {"local_server": True, "website": True}, {}):
        firings = engine.run(_facts(kb, **profile))
        assert firings and list(engine._env.facts()) == []
        assert engine._log.value == ""


def test_an_implication_onto_a_stated_fact_is_recorded_suppressed_and_asserts_nothing(engine, kb):
    firings = engine.run(_facts(kb, local_server=True, local_network=False))
    implied = [f for f in firings if f.rule == "implies.server.network"]
    assert len(implied) == 1 and implied[0].suppressed
    # nothing chained from the losing value: no test fired on an implied local_network
    assert not [f for f in firings if f.fact.startswith("implied:local_network")]


def test_an_action_that_fails_is_raised_not_swallowed(kb):
    engine = ClipsEngine(kb)
    rule = next(r for r in engine._actions.by_rule if r.startswith("test.employees"))
    position = engine._by_position.index(engine._actions.by_rule[rule])

    def broken(fact):
        raise ZeroDivisionError("inside an action")
    engine._by_position[position] = broken
    with pytest.raises(ZeroDivisionError):
        engine.run(_facts(kb))
    assert engine.run([]) == [] and list(engine._env.facts()) == []     # the next session starts clean


def test_concurrent_callers_each_get_their_own_session(engine, kb):
    """A web server calls from threads; one CLIPS environment serves one caller at a time."""
    profiles = [_facts(kb, uses_it=bool(i % 2), website=bool(i % 3)) for i in range(6)]
    expected = [engine.run(f) for f in profiles]
    results: dict[int, list] = {}

    def work(k):
        results[k] = [engine.run(profiles[k % 6]) for _ in range(30)]
    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(runs == [expected[k % 6]] * 30 for k, runs in results.items()) and len(results) == 6
