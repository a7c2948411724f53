"""Audit records: replay, tamper detection, rule changes; explanations for every status."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import record_of
from engine.audit import audit
from engine.explain import explain, what_would_it_take
from engine.record import decision_digest, seal
from interview.cli.main import main
from knowledge.profile import check_profile
from strategies import KB, profiles

ERP = {"name": "Groupe Agro-Sétif", "employees": 120, "industrial": True, "pnman_member": True,
       "diagnostic_approved": True, "recommendations": ["erp", "tic_investment", "tic_upgrade"],
       "general_conditions": True, "goals": ["erp", "server"], "uses_it": True, "it_infrastructure": True,
       "it_manager": True, "local_network": False, "management_rules": True, "management_software": True,
       "top_management_involved": True, "erp_consultant": False, "specs_erp": False, "project_manager_erp": True}


@pytest.fixture()
def record(kb):
    return record_of(check_profile(ERP, kb), kb, timestamp=None, lang="fr")


def _write(tmp_path, data, name="record.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _reseal(data):
    """A tamperer who also recomputes the digest and the record hash: only replay can catch it."""
    data["decision_digest"] = decision_digest(data)
    return seal(data)


def test_untouched_record_matches(kb, record, tmp_path, capsys):
    assert audit(copy.deepcopy(record), kb)["verdict"] == "match"
    assert main(["audit", _write(tmp_path, record)]) == 0
    assert "CONFORME" in capsys.readouterr().out


@pytest.mark.parametrize("tamper, path", [
    (lambda r: r["fiches"][17].__setitem__("status", "eligible"), "fiches[18].status"),
    (lambda r: r["plan"][-1]["budget"].__setitem__("total_da_ht", 1), "budget.total_da_ht"),
    (lambda r: r["plan"].reverse(), "plan[1]"),
    (lambda r: r["totals"]["investment_da_ht"].__setitem__("max", 0), "totals.investment_da_ht.max"),
])
def test_tampered_decisions_are_named(kb, record, tmp_path, capsys, tamper, path):
    data = copy.deepcopy(record)
    tamper(data)
    report = audit(copy.deepcopy(data), kb)
    assert report["verdict"] == "altered" and not report["match"]
    assert any(path in d["path"] for d in report["differences"]), report["differences"][:3]
    resealed = audit(_reseal(copy.deepcopy(data)), kb)
    assert resealed["verdict"] == "mismatch" and resealed["record_intact"]
    assert main(["audit", _write(tmp_path, data)]) == 1
    assert path.split(".")[0].split("[")[0] in capsys.readouterr().out


def test_changed_inputs_are_detected(kb, record):
    data = copy.deepcopy(record)
    data["profile"]["specs_erp"] = True
    report = audit(_reseal(data), kb)
    assert report["verdict"] == "mismatch"
    assert any(d["path"].startswith("fiches[10]") or d["path"].startswith("plan") for d in report["differences"])


def test_rule_change_is_told_apart_from_tampering(kb, record):
    data = copy.deepcopy(record)
    data["knowledge_version"] = "kb-0000000000000000"
    data["fiches"][9]["status"] = "eligible"
    report = audit(_reseal(data), kb)
    assert report["verdict"] == "rules_changed"
    assert report["knowledge_version"] == {"recorded": "kb-0000000000000000", "current": kb.version, "same": False}


def test_audit_rejects_what_is_not_a_record(tmp_path, capsys):
    assert main(["audit", _write(tmp_path, {"schema": "other"})]) == 2
    assert "schema" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert main(["audit", str(bad)]) == 2


def test_explain_why_in_plan(kb, record):
    x = explain(record, 18, kb)
    assert x["in_plan"] and x["status"] == "conditional"
    assert any(b["kind"] == "fiche" and b["fiche"] == 16 and "local_network" in b["provides"]
               for b in x["why"]["brought_by"])
    assert x["why_not"][0]["citation"]["text"] == "L’existence d’un réseau informatique dans l’entreprise"
    option = x["what_would_it_take"]["options"][0]
    assert [c["fact"] for c in option] == ["local_network"]


def test_explain_why_not_and_impossible(kb, record):
    x = explain(record, 13, kb)       # the company already uses IT: fiche 13 is out of scope
    assert not x["in_plan"] and x["status"] == "ineligible"
    assert x["what_would_it_take"]["impossible"][0]["fact"] == "uses_it"
    small = dict(ERP, employees=3)
    x = explain(record_of(check_profile(small, kb), kb), 10, kb)
    assert any(i["fact"] == "employees" for i in x["what_would_it_take"]["impossible"])


def test_explain_unknown_and_eligible(kb):
    record = record_of(check_profile({"employees": 20, "goals": ["security"]}, kb), kb)
    x = explain(record, 21, kb)
    assert x["status"] == "unknown" and x["unknown"]
    assert x["what_would_it_take"]["options"]
    eligible = dict(ERP, specs_erp=True, erp_consultant=True, goals=["erp"])
    x = explain(record_of(check_profile(eligible, kb), kb), 10, kb)
    assert x["status"] == "eligible" and x["what_would_it_take"]["already_eligible"]


def test_explain_cli(record, tmp_path, capsys):
    path = _write(tmp_path, record)
    assert main(["explain", path, "--fiche", "18"]) == 0
    out = capsys.readouterr().out
    assert "Pourquoi cette fiche est dans le plan" in out and "« L’existence d’un réseau informatique" in out
    assert main(["explain", path, "--fiche", "18", "--format", "json", "--lang", "en"]) == 0
    assert json.loads(capsys.readouterr().out)["fiche"] == 18


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles())
def test_what_it_would_take_really_makes_the_fiche_eligible(profile):
    checked = dict(check_profile(profile, KB))
    for number in (2, 10, 13, 16, 18, 26):
        take = what_would_it_take(checked, number, KB)
        for option in take["options"]:
            changed = dict(checked)
            for change in option:
                changed[change["fact"]] = change["to"]
            result = record_of(check_profile(changed, KB), KB)
            assert result["fiches"][number - 1]["status"] == "eligible", (number, option)


def test_an_english_record_replays_without_its_language(kb):
    record = record_of(check_profile(dict(ERP, employees=60), kb), kb, lang="en")
    assert record["lang"] == "en"
    assert any("the guide prints no number of days" in w["message"] for w in record["warnings"])
    assert audit(copy.deepcopy(record), kb)["verdict"] == "match"


def test_french_and_english_records_share_their_decision_digest(kb):
    profile = check_profile(dict(ERP, employees=60), kb)
    french, english = (record_of(profile, kb, lang=lang) for lang in ("fr", "en"))
    assert french["warnings"][0]["message"] != english["warnings"][0]["message"]
    assert french["decision_digest"] == english["decision_digest"] == decision_digest(french) == decision_digest(english)


def test_a_rewritten_message_is_not_a_decision_but_the_file_hash_sees_it(kb):
    record = record_of(check_profile(dict(ERP, employees=60), kb), kb, lang="fr")
    reworded = copy.deepcopy(record)
    reworded["warnings"][0]["message"] = "autre formulation"
    assert decision_digest(reworded) == record["decision_digest"]
    report = audit(reworded, kb)
    assert report["verdict"] == "altered" and report["decision_digest"]["ok"] and not report["record_hash"]["ok"]
    assert audit(seal(reworded), kb)["verdict"] == "match"          # a rewording, resealed, decides the same
    tampered = copy.deepcopy(record)
    tampered["fiches"][9]["status"] = "eligible"
    assert audit(tampered, kb)["verdict"] == "altered"


def test_a_rewritten_time_or_version_breaks_the_record_hash(kb, record, tmp_path, capsys):
    for key, value in (("timestamp", "2020-01-01T00:00:00+00:00"), ("program_version", "9.9"),
                       ("knowledge_version", "kb-0000000000000000")):
        data = copy.deepcopy(record)
        data[key] = value
        if key != "knowledge_version":           # outside the decision digest: only the record hash sees it
            assert decision_digest(data) == record["decision_digest"]
        report = audit(data, kb)
        assert report["verdict"] == "altered" and not report["record_hash"]["ok"], key


def test_a_record_replayed_under_other_rules_is_not_a_match(kb, record, tmp_path, capsys):
    """Every hash recomputed after rewriting the knowledge version: the decisions replay the
    same, but under rules the record does not name, so the audit cannot vouch for it."""
    data = copy.deepcopy(record)
    data["knowledge_version"] = "kb-0000000000000000"
    report = audit(_reseal(data), kb)
    assert report["verdict"] == "other_knowledge" and not report["match"] and report["differences"] == []
    assert report["knowledge_version"]["same"] is False
    assert main(["audit", _write(tmp_path, _reseal(data))]) == 1
    assert "AUTRES RÈGLES" in capsys.readouterr().out
