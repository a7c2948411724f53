"""Audit records: replay, tamper detection, rule changes; explanations for every status."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import record_of
from pnman.engine.audit import audit
from pnman.engine.explain import explain, what_would_it_take
from pnman.engine.record import decision_digest, seal
from pnman.interview.cli.main import main
from pnman.knowledge.profile import check_profile
from pnman.rules.evaluate import evaluate
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


GPAO = {"employees": 30, "industrial": True, "pnman_member": True, "diagnostic_approved": True,
        "recommendations": ["tic_coaching", "tic_investment"], "general_conditions": True, "goals": ["gpao"],
        "uses_it": True, "it_infrastructure": True, "production_actors_identified": True,
        "production_function_organized": True, "specs_gpao": True}
LEFT_OUT_CODES = {"requested_ineligible", "preparation_ineligible", "preparation_not_needed", "acquisition_ineligible",
                  "other_provider", "fact_to_check", "company_brings", "not_requested", "nothing_requested"}


def _explained(profile, number, kb, lang="fr"):
    from pnman.interview.render.explain import localise_explanation
    from pnman.interview.render.l10n import Words
    return localise_explanation(explain(record_of(check_profile(profile, kb), kb), number, kb), Words(lang, kb))


def test_a_preparation_the_company_does_not_need_says_why(kb):
    """The cahier des charges GPAO exists: fiche 2 is planned without fiche 1, and fiche 1
    says so (before, it gave no reason at all)."""
    x = _explained(GPAO, 1, kb)
    assert not x["in_plan"] and x["status"] == "eligible"
    assert {k: x["left_out"][k] for k in ("code", "acquisition", "fact")} == \
        {"code": "preparation_not_needed", "acquisition": 2, "fact": "specs_gpao"}
    assert "Cahier des charges GPAO" in x["left_out"]["text"]
    assert "GPAO specifications" in _explained(GPAO, 1, kb, "en")["left_out"]["text"]


def test_a_preparation_is_never_left_out_for_a_missing_prerequisite(kb):
    """Fiche 10 ineligible (no investment recommendation): fiche 9 serves the goal (before,
    it was left out and blamed on its own missing cahier des charges, which the plan
    brings); with fiche 9 closed too, it is left out because its acquisition is."""
    erp = dict(ERP, recommendations=["erp", "tic_upgrade"], goals=["erp"])
    x = _explained(erp, 9, kb)
    assert x["status"] == "conditional" and x["in_plan"] and x["left_out"] is None
    because = x["why"]["steps"][0]["because"]
    assert "goal.erp" in because and "plan.serves_goal.erp.acquisition_ineligible.f10" in because
    assert "Un progiciel de gestion intégré (ERP)" in x["why"]["steps"][0]["because_text"][0]
    x = _explained(dict(erp, recommendations=["tic_upgrade"]), 9, kb)        # fiche 9 closed too
    assert not x["in_plan"] and x["left_out"]["code"] == "acquisition_ineligible"
    assert x["left_out"]["acquisition"] == 10 and x["left_out"]["acquisition_failing"] == ["f10.population.recommendations"]
    assert x["left_out"]["failing"] == ["f9.population.recommendations"]
    assert "fiche 10" in x["left_out"]["text"] and "f9.population.recommendations" in x["left_out"]["text"]
    x = _explained(dict(erp, recommendations=["tic_upgrade"]), 10, kb)
    assert x["left_out"]["code"] == "requested_ineligible" and x["left_out"]["rule"] == "goal.erp"


def test_a_fiche_left_out_names_what_the_plan_does_instead(kb):
    shop = {"employees": 15, "industrial": False, "pnman_member": True, "diagnostic_approved": True,
            "recommendations": ["tic_coaching", "tic_upgrade"], "general_conditions": True,
            "goals": ["website", "emarketing"], "uses_it": True, "it_infrastructure": True, "website": False,
            "ecommerce_site": False, "web_staff": True}
    x = _explained(shop, 25, kb)          # fiche 27 needs a website or an e-commerce site: fiche 23 brings one
    assert x["left_out"]["code"] == "other_provider"
    assert (x["left_out"]["provider"], x["left_out"]["fact"], x["left_out"]["provides"]) == (23, "website", "ecommerce_site")
    x = _explained(shop, 2, kb)
    assert x["left_out"]["code"] == "not_requested" and x["left_out"]["requested"] == [23, 27]
    assert x["left_out"]["failing"] and "f2.population.industrial" in x["left_out"]["text"]
    x = _explained({"employees": 20}, 21, kb)
    assert x["left_out"]["code"] == "nothing_requested"
    x = _explained({"employees": 25, "goals": ["network"]}, 13, kb)
    assert x["left_out"]["code"] == "fact_to_check" and x["left_out"]["fact"] == "uses_it"
    x = _explained(ERP, 18, kb)
    assert x["in_plan"] and x["left_out"] is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles())
def test_every_fiche_left_out_has_a_reason_in_words(profile):
    """Every fiche the plan leaves out gets one of the planner's reasons, worded in every
    catalogue; a planned fiche gets none."""
    from pnman.engine.explain import left_out
    from pnman.engine.facade import assess
    from pnman.interview.render.explain import left_out_text
    from pnman.interview.render.l10n import Words
    assessment = assess(check_profile(profile, KB), KB)
    record = assessment.record()
    planned = {s["fiche"] for s in record["plan"] if s["kind"] == "fiche"}
    for number in sorted(KB.fiches):
        left = left_out(number, assessment.evaluation, list(assessment.plan.steps), record["warnings"], KB)
        assert (left is None) == (number in planned), number
        if left is None:
            continue
        assert left["code"] in LEFT_OUT_CODES and left["status"] == assessment.evaluation.status(number)
        for lang in ("fr", "en"):
            assert left_out_text(left, Words(lang, KB)).strip()


def _applied(profile, changes):
    changed = dict(profile)
    for change in changes:
        changed[change["fact"]] = change["to"]
    return evaluate(check_profile(changed, KB), KB)


def _blocked_tests(status):
    """The failing tests the company cannot change, where no other alternative can meet the condition."""
    found = set()
    for outcome in status.conditions:
        if outcome.outcome == "met":
            continue
        blocked = {t.test.fact for t in outcome.tests
                   if t.outcome == "failed" and KB.unchangeable(t.test, outcome.condition)}
        if blocked and (not outcome.condition.any_of or len(blocked) == len(outcome.tests)):
            found |= {(fact, outcome.condition.id) for fact in blocked}
    return found


def _contradictions(evaluation):
    """The facts the profile contradicts itself on."""
    return {c.fact for c in evaluation.contradictions}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles(), st.sampled_from(sorted(KB.fiches)))
def test_what_it_would_take_really_makes_the_fiche_eligible(profile, minimal_fiche):
    """Every fiche of every example is checked: eligible → nothing to take; impossible →
    exactly the unchangeable failing tests; otherwise at least one option, each of which,
    applied, makes the fiche eligible without the profile contradicting itself anew; and
    the options of one fiche drawn per example are minimal: undoing any one change leaves
    the fiche short of eligible, or the profile contradicting itself."""
    checked = dict(check_profile(profile, KB))
    evaluation = evaluate(checked, KB)
    before = _contradictions(evaluation)
    for number in sorted(KB.fiches):
        status = evaluation.statuses[number]
        take = what_would_it_take(checked, number, KB)
        blocked = _blocked_tests(status)
        if status.status == "eligible":
            assert take["already_eligible"] and not take["options"] and not take["impossible"], number
            continue
        assert not take["already_eligible"], number
        assert {(i["fact"], i["condition"]) for i in take["impossible"]} == blocked, (number, take["impossible"])
        if blocked:
            assert not take["options"], number
            continue
        assert take["options"], (number, checked)
        sizes = [len(option) for option in take["options"]]
        assert sizes == sorted(sizes), number
        for option in take["options"]:
            facts = [change["fact"] for change in option]
            assert len(set(facts)) == len(facts), (number, option)
            after = _applied(checked, option)
            assert after.status(number) == "eligible" and _contradictions(after) <= before, (number, option)
            if number == minimal_fiche:
                for index in range(len(option)):
                    fewer = _applied(checked, option[:index] + option[index + 1:])
                    assert fewer.status(number) != "eligible" or not _contradictions(fewer) <= before, \
                        (number, option, index)


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
                       ("engine", "clips" if record["engine"] == "durable" else "durable"),
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
