"""The durable-rules session pattern: the pitfalls it guards against stay guarded."""
from __future__ import annotations

import pytest

from pnman.knowledge.errors import KnowledgeError
from pnman.rules.evaluate import evaluate
from hypothesis import HealthCheck, given, settings

from pnman.knowledge.profile import check_profile
from pnman.rules.compile import definition, fact_ids
from pnman.rules.evaluate import profile_facts
pytest.importorskip("durable_rules_engine", reason="durable-rules does not install on this Python: CLIPS decides "
                    "(tests/test_engines.py, tests/test_clips_engine.py)")

from pnman.rules.runtime import HostEngine, RuleEngine, check_fact_ids, fnv1a_32, tune_malloc  # noqa: E402
from strategies import KB, profiles


def test_fnv1a_reference_values():
    assert fnv1a_32("") == 0x811C9DC5
    assert fnv1a_32("a") == 0xE40C292C


def test_hash_collisions_are_refused():
    assert fnv1a_32("attr:k332789") == fnv1a_32("attr:k529192")
    with pytest.raises(KnowledgeError, match="collide"):
        check_fact_ids(["attr:k332789", "attr:k529192"])


def test_shipped_fact_ids_do_not_collide(kb):
    check_fact_ids(fact_ids(kb))


def test_more_sessions_than_durable_keeps_alive(kb):
    """durable-rules caps live sessions at 1,024; each evaluation must free its own."""
    profile = {"employees": 30, "uses_it": False, "pnman_member": True, "recommendations": ["tic_investment"]}
    for _ in range(1100):
        evaluation = evaluate(profile, kb)
    assert evaluation.fact("local_network") is False


def test_no_fact_matches_more_than_64_rule_conditions(kb):
    """durable-rules fails when one fact matches more than 64 conditions at once."""
    rules = definition(kb)
    per_name: dict[str, int] = {}
    for rule in rules.values():
        text = str(rule["all"])
        for fact in kb.facts:
            if f"'name': '{fact}'" in text or f"'name': '{fact}." in text:
                per_name[fact] = per_name.get(fact, 0) + 1
    assert max(per_name.values()) + 1 <= 64      # + the sink rule


def test_an_action_failure_is_not_swallowed(kb):
    """durable's Host stores an action's exception in the session state; pnman's driver
    raises it where it happens, and the engine keeps working for the next profile."""
    engine = RuleEngine(kb)
    broken_rule = "test.employees.size.5-250.met"
    working = engine._actions.by_rule[broken_rule]

    def broken(fact):
        raise ValueError("boom")
    engine._actions.by_rule[broken_rule] = broken
    employees = [{"id": "attr:employees", "t": "attr", "name": "employees", "value": 12}]
    with pytest.raises(ValueError, match="boom"):
        engine.run(employees)
    engine._actions.by_rule[broken_rule] = working
    assert [f.rule for f in engine.run(employees)] == [broken_rule]


def test_the_host_baseline_reports_a_failure_too(kb):
    engine = HostEngine(kb)
    broken_rule = "test.employees.size.5-250.met"

    def broken(c):
        raise ValueError("boom")
    bad = definition(kb)
    for name, rule in bad.items():
        rule["run"] = broken if name == broken_rule else (lambda c: None)
    engine.name += "_broken"
    engine.host.register_rulesets({engine.name: bad})
    with pytest.raises(RuntimeError, match="a rule action failed"):
        engine.run([{"id": "attr:employees", "t": "attr", "name": "employees", "value": 12}])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles())
def test_the_direct_driver_fires_exactly_as_durables_host(profile):
    """Same rules, same facts: the same firings in the same order, implications included."""
    facts = profile_facts(check_profile(profile, KB), KB)
    assert DIRECT.run(facts) == HOST.run(facts)


DIRECT, HOST = RuleEngine(KB), HostEngine(KB)


def test_malloc_is_tuned_on_linux():
    import sys
    assert tune_malloc() is sys.platform.startswith("linux")


def test_one_session_serves_many_profiles_and_fires_as_fresh_ones(kb):
    """An evaluation retracts what it asserted, so a session reused for the next profile
    fires exactly as a fresh one (implications, suppressed firings and list facts included)."""
    from bench.portfolio import profiles as portfolio
    fresh, reused = RuleEngine(kb), RuleEngine(kb)
    fresh.SESSION_RUNS = 1                       # a new session for every evaluation
    reused.SESSION_RUNS = 10 ** 6
    for profile in portfolio(1500, seed=23):
        facts = profile_facts(check_profile(profile, kb), kb)
        assert reused.run(facts) == fresh.run(facts)
    assert reused._sid == "1" and reused._runs == 1500      # one session served them all
    assert fresh._sid is None                    # each of its sessions deleted after one evaluation


def test_a_failed_evaluation_drops_its_session_and_the_next_starts_afresh(kb):
    engine = RuleEngine(kb)
    employees = [{"id": "attr:employees", "t": "attr", "name": "employees", "value": 12}]
    first = engine.run(employees)
    sid = engine._sid
    rule = "test.employees.size.5-250.met"
    working = engine._actions.by_rule[rule]

    def broken(fact):
        raise ValueError("boom")
    engine._actions.by_rule[rule] = broken
    with pytest.raises(ValueError, match="boom"):
        engine.run(employees)
    assert engine._sid is None                   # deleted, not reused half-done
    engine._actions.by_rule[rule] = working
    assert engine.run(employees) == first and engine._sid not in (None, sid)


def test_a_session_is_renewed_after_its_share_of_evaluations(kb):
    engine = RuleEngine(kb)
    engine.SESSION_RUNS = 3
    facts = [{"id": "attr:employees", "t": "attr", "name": "employees", "value": 60}]
    sids = []
    for _ in range(7):
        engine.run(facts)
        sids.append(engine._sid)
    assert sids == ["1", "1", None, "2", "2", None, "3"]


def test_a_fact_no_rule_reads_is_not_asserted_yet_still_wins_over_an_implication(kb):
    """`internet_access` is read by no rule (only implied): durable is not given the profile's
    value, yet the implication onto it is suppressed as when it was, as durable's Host does."""
    rule = next(r for r in kb.implications if r.conclusion[0] == "internet_access")
    premise, value = rule.premise
    facts = profile_facts(check_profile({"employees": 20, premise: value, "internet_access": True}, kb), kb)
    engine = RuleEngine(kb)
    assert "internet_access" not in engine._read
    asserted = []
    real = engine._engine

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def assert_facts(self, handle, data):
            asserted.append(data)
            return real.assert_facts(handle, data)
    engine._engine = Spy()
    firings = engine.run(facts)
    assert asserted and '"internet_access"' not in asserted[0]
    assert [f for f in firings if f.rule == rule.id] == [f for f in HOST.run(facts) if f.rule == rule.id]
    assert next(f for f in firings if f.rule == rule.id).suppressed
    assert firings == HOST.run(facts)


def test_every_fact_is_handled_though_the_sink_takes_in_only_those_no_test_reads(kb):
    """durable refuses a fact no rule can match (and the whole batch with it): a fact a test
    reads is matched by that test's met or failed rule, the others (an implication's premise
    or conclusion only: local_server) by the sink, with either value; the sink never fires."""
    from pnman.rules.compile import SINK, _sink_pattern, fact_name
    tested = {fact_name(test) for test in kb.tests()}
    sunk = [p["name"] for p in _sink_pattern(kb).get("$or", [_sink_pattern(kb)])]
    assert sunk and not set(sunk) & tested
    premises = {rule.premise[0] for rule in kb.implications} - tested
    assert premises
    for engine in (RuleEngine(kb), HostEngine(kb)):
        for name in sorted(premises):
            for value in (True, False):
                facts = profile_facts(check_profile({"employees": 20, name: value}, kb), kb)
                firings = engine.run(facts)
                assert SINK not in {firing.rule for firing in firings}


def test_durables_messages_are_read_once_a_session_within_a_bound(kb, monkeypatch):
    """An action message seen before is looked up, not parsed again: the same firings as a
    driver that parses each, the table within its bound and emptied with its session."""
    from bench.portfolio import profiles as portfolio
    import orjson
    from pnman.rules import runtime
    parsed = []
    monkeypatch.setattr(runtime, "orjson", type("Counting", (), {
        "loads": staticmethod(lambda text: parsed.append(text) or orjson.loads(text)), "dumps": staticmethod(orjson.dumps)}))
    kept, fresh = RuleEngine(kb), RuleEngine(kb)
    kept.MESSAGES_KEPT, fresh.MESSAGES_KEPT, kept.SESSION_RUNS = 60, 0, 25
    checked = [check_profile(p, kb) for p in portfolio(40, seed=3)]
    for profile in checked + checked:
        facts = profile_facts(profile, kb)
        assert kept.run(facts) == fresh.run(facts)
        assert len(kept._messages) <= 60
    kept.MESSAGES_KEPT, kept.SESSION_RUNS = 10_000, 10_000
    for profile in checked[:5]:
        kept.run(profile_facts(profile, kb))
    before = len(parsed)
    for profile in checked[:5]:
        kept.run(profile_facts(profile, kb))
    assert before == len(parsed)         # the second time round, nothing parsed
    kept.SESSION_RUNS = kept._runs + 1
    kept.run(profile_facts(checked[0], kb))
    assert not kept._messages and kept._sid is None
