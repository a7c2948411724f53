"""The two rules engines decide alike: durable-rules (before Python 3.13) and CLIPS.

Same firings in the same order, so the same statuses, plan, totals, warnings, trace and
decision digest, on every scenario case, every example and thousands of random profiles.
Where one engine does not install (durable on Python 3.13), the comparisons skip and the
rest of the suite runs on the other.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from conftest import record_of
from pnman.engine.audit import audit
from pnman.engine.cases import load_cases
from pnman.knowledge import default
from pnman.knowledge.profile import check_profile
from pnman.rules import engines
from pnman.rules.evaluate import evaluate, profile_facts
from strategies import profiles

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CASES = ROOT / "tests" / "cases"
BOTH = pytest.mark.skipif(not all(map(engines.available, engines.ENGINES)),
                          reason="one of the two engines does not import on this Python (durable-rules before 3.13 only)")


def _case_profiles() -> list[tuple[str, dict]]:
    """Every profile of the scenario cases, read as `pnman test` reads them."""
    return [(case.name, dict(case.profile)) for case in load_cases([CASES], default())]


CASE_PROFILES = _case_profiles()


def _record(profile: dict, kb, engine: str, monkeypatch) -> dict:
    monkeypatch.setenv(engines.ENVIRONMENT, engine)
    return record_of(check_profile(profile, kb), kb)


def _without_engine(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "engine"}


@BOTH
@pytest.mark.parametrize("name, profile", [(p.stem, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in EXAMPLES]
                         + CASE_PROFILES, ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_and_case_gives_the_same_record_on_both_engines(name, profile, kb, monkeypatch):
    durable, clips = (_record(profile, kb, engine, monkeypatch) for engine in engines.ENGINES)
    assert (durable["engine"], clips["engine"]) == ("durable", "clips")
    assert _without_engine(durable) == _without_engine(clips)     # firings, statuses, plan, totals, warnings, digest


def test_there_are_cases_and_examples_to_compare():
    assert len(CASE_PROFILES) >= 25 and len(EXAMPLES) >= 5


@BOTH
@settings(max_examples=int(os.environ.get("PNMAN_ENGINE_EXAMPLES", 2000)), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(profiles())
def test_random_profiles_fire_alike_and_decide_alike(kb, profile):
    profile = check_profile(profile, kb)
    facts = profile_facts(profile, kb)
    durable, clips = (engines.engine_for(kb, name).run(facts) for name in engines.ENGINES)
    assert durable == clips
    os.environ[engines.ENVIRONMENT] = "durable"
    try:
        first = evaluate(profile, kb)
        os.environ[engines.ENVIRONMENT] = "clips"
        second = evaluate(profile, kb)
    finally:
        del os.environ[engines.ENVIRONMENT]
    assert {n: s.status for n, s in first.statuses.items()} == {n: s.status for n, s in second.statuses.items()}
    assert first.facts == second.facts and first.contradictions == second.contradictions


@BOTH
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(profiles())
def test_random_profiles_give_the_same_record_and_digest(kb, profile):
    records = []
    for name in engines.ENGINES:
        os.environ[engines.ENVIRONMENT] = name
        try:
            records.append(record_of(check_profile(profile, kb), kb))
        finally:
            del os.environ[engines.ENVIRONMENT]
    assert _without_engine(records[0]) == _without_engine(records[1])


@BOTH
def test_a_record_made_by_one_engine_audits_as_a_match_under_the_other(kb, monkeypatch):
    profile = yaml.safe_load((ROOT / "examples" / "me-erp.yaml").read_text(encoding="utf-8"))
    for maker, replayer in (("durable", "clips"), ("clips", "durable")):
        record = _record(profile, kb, maker, monkeypatch)
        monkeypatch.setenv(engines.ENVIRONMENT, replayer)
        assert audit(copy.deepcopy(record), kb)["verdict"] == "match", (maker, replayer)


def test_the_record_names_the_engine_that_ran(kb, monkeypatch):
    profile = {"employees": 12, "goals": ["website"]}
    engine = engines.chosen()
    assert record_of(check_profile(profile, kb), kb)["engine"] == engine
    assert engine == ("durable" if engines.available("durable") else "clips")


def test_an_unknown_or_missing_engine_is_exit_2_naming_it(monkeypatch, capsys, tmp_path):
    from pnman.interview.cli.main import main
    profile = ROOT / "examples" / "tpe-demarrage.yaml"
    monkeypatch.setenv(engines.ENVIRONMENT, "drools")
    assert main(["assess", str(profile)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "pnman: $PNMAN_ENGINE: expected one of durable, clips, got 'drools'"
    monkeypatch.setattr(engines, "available", lambda name: name != "durable")
    monkeypatch.setenv(engines.ENVIRONMENT, "durable")
    assert main(["assess", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "$PNMAN_ENGINE" in err and "durable-rules is not installed" in err and "Traceback" not in err
    monkeypatch.setenv(engines.ENVIRONMENT, "clips")
    assert main(["assess", str(profile), "--format", "json"]) == 0
    assert '"engine": "clips"' in capsys.readouterr().out


def test_version_names_the_program_the_knowledge_and_the_engine(capsys, kb):
    from pnman import __version__
    from pnman.interview.cli.main import main
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"pnman {__version__}"
    assert lines[1] == f"knowledge {kb.version}"
    assert lines[2].startswith("engine durable-rules " if engines.chosen() == "durable" else "engine CLIPS (clipspy ")


def test_a_lost_firing_is_an_error_not_an_unknown(kb):
    """Every fact the profile states fires one of each of its tests' two rules: an engine that
    lost one (a reused session gone wrong, say) stops the evaluation instead of reading the
    test as unknown."""
    from pnman.rules import evaluate as ev
    profile = check_profile({"employees": 20, "uses_it": True, "recommendations": ["tic_investment"]}, kb)
    asserted = ev._asserted(profile, kb)
    firings = engines.engine_for(kb, engines.chosen()).run(list(map(ev._fact, asserted)))
    facts, _ = ev._resolve(asserted, firings, kb)
    ev._test_outcomes(kb, facts, firings, ev._shared(kb))
    lost = next(f for f in firings if f.rule.startswith("test.employees."))
    with pytest.raises(RuntimeError, match="no rule decided"):
        ev._test_outcomes(kb, facts, [f for f in firings if f is not lost], ev._shared(kb))
