"""Every cache the engine keeps between assessments is bounded: each test below fills one
past its bound and checks it stayed within it and that the answers did not change
(a batch of 100,000 companies must not grow the memory of its processes)."""
from __future__ import annotations

import functools
import importlib
import pkgutil

import pytest

from bench.portfolio import profiles
from pnman.engine import questioning
from pnman.engine.facade import assess
from pnman.knowledge.profile import check_profile
from pnman.rules import evaluate as evaluation


@pytest.fixture(scope="module")
def varied(kb):
    return [check_profile(p, kb) for p in profiles(120, seed=31)]


def test_the_shared_outcome_tables_stay_within_their_limits(kb, varied, monkeypatch):
    expected = [assess(p, kb).record(timestamp="t")["decision_digest"] for p in varied]
    shared = evaluation._shared(kb)
    limits = {"tests": 40, "firings": 50, "conditions": 60, "statuses": 30}
    monkeypatch.setattr(shared, "limits", limits)
    for table in limits:
        getattr(shared, table).clear()
    shared.older_statuses.clear()
    seen = {table: 0 for table in limits}
    for profile, digest in zip(varied, expected):
        assert assess(profile, kb).record(timestamp="t")["decision_digest"] == digest
        for table, limit in limits.items():
            size = len(getattr(shared, table)) + (len(shared.older_statuses) if table == "statuses" else 0)
            assert size <= limit, table
            seen[table] = max(seen[table], size)
    assert seen == limits          # each table reached its bound (and was emptied past it)


def test_a_status_met_again_survives_the_turn_of_its_generation(kb, varied, monkeypatch):
    """The statuses' young generation becomes the old one when full: a status found there
    moves back (the same object, its record parts with it); one not met again is dropped.
    Emptying the whole table at its bound (as before) fails the first check."""
    shared = evaluation._shared(kb)
    monkeypatch.setattr(shared, "limits", {**shared.limits, "statuses": 120})   # a young one holds two profiles
    shared.statuses.clear()
    shared.older_statuses.clear()
    steady, once = varied[0], varied[1]
    first = list(assess(steady, kb).evaluation.statuses.values())
    gone = [s for s in assess(once, kb).evaluation.statuses.values() if not any(s is f for f in first)]
    assert gone
    for profile in varied[2:]:
        assess(profile, kb)
        assert all(a is b for a, b in zip(assess(steady, kb).evaluation.statuses.values(), first))
        assert len(shared.statuses) <= 60 and len(shared.older_statuses) <= 60
    kept = [*shared.statuses.values(), *shared.older_statuses.values()]
    assert not any(s is k for s in gone for k in kept)


def test_the_questioning_keeps_a_bounded_number_of_outcomes(kb, monkeypatch):
    monkeypatch.setattr(questioning, "OUTCOMES_KEPT", 5)
    questioning._OUTCOMES.clear()
    for employees in range(10, 30):
        questioning.outcome({"employees": employees, "goals": ["website"]}, kb)
        assert len(questioning._OUTCOMES) <= 5
    assert len(questioning._OUTCOMES) == 5


def test_the_questioning_keeps_a_bounded_number_of_trials_and_status_views(kb, monkeypatch):
    from pnman.engine import plan_reads
    monkeypatch.setattr(questioning, "TRIALS_KEPT", 5)
    monkeypatch.setattr(plan_reads, "VIEWS_KEPT", 3)
    questioning._TRIALS.clear()
    plan_reads._VIEWS.clear()
    views = 0
    for employees in range(10, 30):
        questioning.trial_signature({"employees": employees, "goals": ["website"], "web_staff": employees % 2 == 0}, kb)
        assert len(questioning._TRIALS) <= 5 and len(plan_reads._VIEWS) <= 3
        views = max(views, len(plan_reads._VIEWS))
    assert len(questioning._TRIALS) == 5 and views == 3


def _lru_caches():
    """Every functools.lru_cache in pnman's modules (the web face's too)."""
    found = []
    layers = [importlib.import_module(f"pnman.{layer}") for layer in ("knowledge", "rules", "engine", "records", "interview")]
    modules = [m for layer in layers for m in pkgutil.walk_packages(layer.__path__, layer.__name__ + ".")]
    for module in modules:
        if module.name.endswith("__main__"):
            continue
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if callable(value) and hasattr(value, "cache_info") and getattr(value, "__module__", None) == module.name:
                found.append((module.name, name, value))
    return found


# Unbounded on purpose, each keyed by a closed list: which rules engine imports (two names).
UNBOUNDED_BY_DESIGN = {"pnman.rules.engines.available"}


def test_every_lru_cache_has_a_bound():
    caches = _lru_caches()
    assert len(caches) >= 5
    unbounded = {f"{module}.{name}" for module, name, cached in caches if cached.cache_parameters()["maxsize"] is None}
    assert unbounded <= UNBOUNDED_BY_DESIGN


def test_an_lru_cache_filled_past_its_bound_stays_within_it(kb):
    from pnman.engine import planner
    bound = planner._implied.cache_parameters()["maxsize"]
    for value in range(bound + 50):
        planner._implied(kb, "employees", value)
        assert planner._implied.cache_info().currsize <= bound
    assert planner._implied.cache_info().currsize == bound


def test_the_status_rule_names_stay_within_their_bound():
    names = evaluation._STATUS_RULES
    for number in range(1, 1_200):
        assert names[number, "eligible"] == f"status.f{number}.eligible"
        assert len(names) <= 1_000
    assert names[9, "unknown"] == "status.f9.unknown"


def test_the_worded_warnings_stay_within_their_bound_and_say_the_same(kb, varied, monkeypatch):
    """Localising words each distinct warning once (interview/render/l10n.py): past its bound
    the table is emptied, and every message is the one worded afresh, glued or not."""
    from pnman.interview.render import l10n
    monkeypatch.setattr(l10n, "WARNINGS_KEPT", 7)
    words = l10n.Words("ar", kb)
    glued = words.glued("\u00a0")
    warnings = [w for p in varied for w in assess(p, kb).record(timestamp="t")["warnings"]]
    assert len({(w["code"], w["fiche"], repr(w.get("figures"))) for w in warnings}) > 7
    for warning in warnings:
        for w in (words, glued):
            afresh = l10n.Words("ar", kb).glued(w.glue)
            assert w.warning(warning) == afresh.warning(warning)
            assert len(w.__dict__["_warnings"]) <= 7
    assert any(" " in w.warning(x) and "\u00a0" in glued.warning(x) for x in warnings for w in (words,))


def test_the_asserted_facts_and_their_json_stay_within_their_bounds(kb, varied, monkeypatch):
    """The fact dictionaries shared between evaluations (by key and value), and the durable
    session's JSON of them, are bounded; the firings and digests stay the same."""
    from pnman.rules.engines import chosen, engine_for
    expected = [assess(p, kb).record(timestamp="t")["decision_digest"] for p in varied]
    table = evaluation._asserted_facts(kb)
    monkeypatch.setattr(table, "LIMIT", 25)
    table.clear()
    engine = engine_for(kb, chosen())
    kept = getattr(engine, "_facts_json", None)          # the durable session's (CLIPS keeps none)
    if kept is not None:
        monkeypatch.setattr(engine, "FACTS_KEPT", 40)
        kept.clear()
    peak = {"facts": 0, "json": 0}
    for profile, digest in zip(varied, expected):
        assert assess(profile, kb).record(timestamp="t")["decision_digest"] == digest
        assert len(table) <= 25
        peak["facts"] = max(peak["facts"], len(table))
        if kept is not None:
            assert len(kept) <= 40
            peak["json"] = max(peak["json"], len(kept))
    assert peak["facts"] == 25 and (kept is None or peak["json"] == 40)


def test_the_asserted_facts_are_those_of_the_profile(kb, varied):
    """Shared fact dictionaries read as the profile says, whichever profile filled the table."""
    evaluation._asserted_facts(kb).clear()
    for profile in varied:
        facts = evaluation.profile_facts(profile, kb)
        expected = []
        for key in sorted(profile):
            spec, value = kb.facts.get(key), profile[key]
            if value is None or spec is None or spec.role in ("identity", "request"):
                continue
            names = [(f"{key}.{code}", code in value) for code in spec.choices] if spec.type == "list" else [(key, value)]
            expected += [{"id": f"attr:{name}", "t": "attr", "name": name, "value": v} for name, v in names]
        assert facts == expected
        assert all(type(f["value"]) is type(e["value"]) for f, e in zip(facts, expected))   # True is not 1


def test_a_status_made_without_the_constructor_is_the_constructors(kb, varied):
    """rules.evaluate._fiche_status skips the frozen dataclass's __init__: the same fields,
    values and equality as FicheStatus(...), whatever fields FicheStatus gains."""
    import dataclasses
    for profile in varied[:20]:
        for status in evaluation.evaluate(profile, kb).statuses.values():
            made = evaluation.FicheStatus(status.fiche, status.status, status.rule, status.conditions,
                                          status.excluded_by, status.unknown_facts)
            fast = evaluation._fiche_status(status.fiche, status.status, status.rule, status.conditions,
                                            status.excluded_by, status.unknown_facts)
            assert fast == made and repr(fast) == repr(made)
            assert set(vars(fast)) == set(vars(made)) == {f.name for f in dataclasses.fields(made)}
            assert fast.memo == {} and fast.memo is not status.memo
