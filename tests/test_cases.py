"""Scenario cases written as data (tests/cases/*.yaml): a profile and what the guide implies."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import record_of, step_label
from pnman.knowledge.profile import check_profile

CASES = Path(__file__).parent / "cases"
BASES = yaml.safe_load((CASES / "_bases.yaml").read_text(encoding="utf-8"))
CASE_FILES = sorted(p for p in CASES.glob("*.yaml") if not p.name.startswith("_"))


def load_case(path: Path) -> tuple[dict, dict]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    profile = dict(BASES[case["base"]]) if case.get("base") else {}
    profile.update(case.get("profile") or {})
    return profile, case["expect"]


def test_there_are_enough_cases():
    assert len(CASE_FILES) >= 25


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case(path, kb):
    profile, expect = load_case(path)
    result = record_of(check_profile(profile, kb, file=path.name), kb)
    fiches = {e["fiche"]: e for e in result["fiches"]}
    if "size_class" in expect:
        assert result["size_class"] == expect["size_class"]
    for number, status in (expect.get("statuses") or {}).items():
        assert fiches[number]["status"] == status, (number, fiches[number]["reasons"])
    if "all_statuses" in expect:
        assert {e["status"] for e in result["fiches"]} == {expect["all_statuses"]}
    for number, conditions in (expect.get("reasons") or {}).items():
        found = {r["condition"] for r in fiches[number]["reasons"]}
        assert set(conditions) <= found, (number, found)
        for r in fiches[number]["reasons"]:
            assert r["citation"]["text"] and r["citation"]["section"]
    for number, facts in (expect.get("unknown_facts") or {}).items():
        assert set(facts) <= set(fiches[number]["unknown_facts"])
    labels = [step_label(s) for s in result["plan"]]
    if "plan" in expect:
        assert labels == expect["plan"]
    for action, needers in (expect.get("needed_by") or {}).items():
        step = next(s for s in result["plan"] if s.get("id") == action)
        assert step["needed_by"] == needers
    for label, fields in (expect.get("steps") or {}).items():
        step = next((s for s in result["plan"] if step_label(s) == label), None)
        assert step is not None, (label, labels)
        for key, value in fields.items():
            if key == "because":       # the ids listed are among the step's
                assert set(value) <= set(step["because"]), (label, step["because"])
            else:
                assert step.get(key) == value, (label, key, step)
    for number, budget in (expect.get("budgets") or {}).items():
        step = next(s for s in result["plan"] if s["kind"] == "fiche" and s["fiche"] == number)
        for key, value in budget.items():
            assert step["budget"][key] == value, (number, key, step["budget"])
    for key, value in (expect.get("totals") or {}).items():
        assert result["totals"][key] == value
    codes = {w["code"] for w in result["warnings"]}
    for code in expect.get("warnings") or []:
        assert code in codes, codes
    for code in expect.get("no_warnings") or []:
        assert code not in codes, codes
    for number, by_code in (expect.get("warning_figures") or {}).items():
        for code, wanted in by_code.items():
            found = [w.get("figures") or {} for w in result["warnings"] if w["code"] == code and w["fiche"] == number]
            assert any(all(f.get(k) == v for k, v in wanted.items()) for f in found), (number, code, found)
    for fact, value in (expect.get("facts") or {}).items():
        assert result["facts"][fact]["value"] == value
    for fact in expect.get("absent_facts") or []:
        assert fact not in result["facts"], result["facts"][fact]
