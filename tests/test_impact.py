"""`pnman impact`: a small portfolio assessed under the printed guide and the test edition
(tests/editions/2027-test.yaml, fictitious), its changes checked against figures worked
out by hand from the fiches:

- fiche 16, PE: 200 000 + 100 000 + 640 000 = 940 000 DA HT; the edition makes « Service »
  700 000, so 1 000 000;
- fiche 20, TPE: 15 000 + 40 000 + 80 000 = 135 000; « Matériel » 20 000, so 140 000;
- fiche 1, PE: 15 ± 2 days (13–17); the edition says 18 ± 2 (16–20);
- fiche 16, ME (1 040 000) and fiche 2, PE (1 300 000) are left alone.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.portfolio import write_csv
from conftest import one_clean_line, run
from pnman.engine.facade import assess
from pnman.engine.impact import ImpactSummary, company_impact
from pnman.knowledge.profile import check_profile

ROOT = Path(__file__).resolve().parent.parent
BASE = {"pnman_member": True, "diagnostic_approved": True, "general_conditions": True, "uses_it": True,
        "it_infrastructure": True}
ALPHA = dict(BASE, name="Alpha", employees=20, recommendations=["tic_investment", "tic_upgrade"], goals=["network"],
             local_network=False, internet_access=True)
BETA = dict(BASE, name="Beta", employees=7, recommendations=["tic_investment", "tic_upgrade"],
            goals=["internet_access"], local_network=True, internet_access=False)
GAMMA = dict(ALPHA, name="Gamma", employees=60)
DELTA = dict(ALPHA, name="Delta", employees=3)
OMEGA = dict(BASE, name="Omega", employees=30, industrial=True, goals=["gpao"],
             recommendations=["tic_coaching", "tic_investment", "tic_upgrade"], specs_gpao=False,
             production_actors_identified=True, production_function_organized=True, machines_db=True,
             suppliers_db=True, customers_db=True, product_nomenclature=True, work_procedures=True,
             project_manager_gpao=True, it_manager=True, minimal_it_skills=True, local_network=True)
PORTFOLIO = [ALPHA, BETA, GAMMA, DELTA, "not a profile", OMEGA]


@pytest.fixture(autouse=True)
def editions(monkeypatch):
    monkeypatch.setenv("PNMAN_EDITIONS", str(ROOT / "tests" / "editions"))


@pytest.fixture()
def portfolio(tmp_path) -> Path:
    path = tmp_path / "portfolio.jsonl"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PORTFOLIO), encoding="utf-8")
    return path


def impact(capsys, *argv):
    code, out, err = run(capsys, "impact", *argv)
    return code, out, err


def read_lines(text: str) -> tuple[list[dict], dict]:
    lines = [json.loads(line) for line in text.splitlines() if line]
    *companies, last = lines
    return companies, last["summary"]


def test_each_company_and_the_summary_against_hand_computed_figures(capsys, portfolio, tmp_path):
    output = tmp_path / "impact.jsonl"
    code, out, err = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "-o", str(output))
    assert code == 0 and out == ""
    assert "row 5" in err                                           # the bad row, named, the others go on
    companies, summary = read_lines(output.read_text(encoding="utf-8"))
    by_name = {c.get("name"): c for c in companies if "error" not in c}
    assert [c["row"] for c in companies] == [1, 2, 3, 4, 5, 6]
    assert companies[4] == {"row": 5, "error": companies[4]["error"]}

    alpha = by_name["Alpha"]
    assert alpha["changed"] and alpha["size_class"] == "PE" and alpha["statuses"] == []
    assert alpha["totals"]["from"]["investment_da_ht"] == {"min": 940000, "max": 940000}
    assert alpha["totals"]["to"]["investment_da_ht"] == {"min": 1000000, "max": 1000000}
    (step,) = alpha["plan"]["budgets"]
    assert step["fiche"] == 16 and step["step"] == "f16"
    assert {f["figure"]: (f["from"], f["to"]) for f in step["figures"]} == {
        "lines[2].amount_da_ht": (640000, 700000), "lines_sum_da_ht": (940000, 1000000),
        "total_da_ht": (940000, 1000000)}
    assert step["figures"][0]["label"] == "Service"
    assert step["references"] == ["Édition d’essai de pnman (fictive, pour les tests)"]
    assert alpha["plan"]["added"] == alpha["plan"]["removed"] == [] and not alpha["plan"]["order_changed"]

    beta = by_name["Beta"]
    assert beta["totals"]["from"]["investment_da_ht"]["max"] == 135000
    assert beta["totals"]["to"]["investment_da_ht"]["max"] == 140000
    assert "Essai : ligne Matériel de la fiche 20 (fictif)" in beta["plan"]["budgets"][0]["references"]

    omega = by_name["Omega"]
    assert omega["totals"]["from"]["coaching_days"] == {"min": 13, "max": 17}
    assert omega["totals"]["to"]["coaching_days"] == {"min": 16, "max": 20}
    assert omega["totals"]["from"]["investment_da_ht"] == omega["totals"]["to"]["investment_da_ht"] \
        == {"min": 1300000, "max": 1300000}
    (step,) = omega["plan"]["budgets"]
    assert step["fiche"] == 1 and [(f["figure"], f["from"], f["to"]) for f in step["figures"]] == [("days", 15, 18)]

    for name in ("Gamma", "Delta"):
        assert by_name[name]["changed"] is False and "plan" not in by_name[name]
    assert by_name["Gamma"]["totals"]["from"]["investment_da_ht"]["max"] == 1040000
    assert by_name["Delta"]["size_class"] is None

    assert summary["rows"] == 6 and summary["errors"] == 1 and summary["assessed"] == 5
    assert summary["affected"] == 3 and summary["unchanged"] == 2
    assert summary["status_changes"] == 0 and summary["plan_changes"] == 0
    assert summary["budget_changes_per_fiche"] == {"1": 1, "16": 1, "20": 1}
    totals = summary["totals"]
    assert totals["from"]["investment_da_ht"] == {"min": 3415000, "max": 3415000}   # 940 000 + 135 000 + 1 040 000 + 1 300 000
    assert totals["to"]["investment_da_ht"] == {"min": 3480000, "max": 3480000}     # 1 000 000 + 140 000 + 1 040 000 + 1 300 000
    assert totals["change"]["investment_da_ht"] == {"min": 65000, "max": 65000}
    assert totals["from"]["coaching_days"] == {"min": 13, "max": 17}
    assert totals["to"]["coaching_days"] == {"min": 16, "max": 20}
    assert summary["from"] == "base" and summary["to"] == "2027-test"


def test_csv_and_worker_processes_give_the_same_result(capsys, portfolio, tmp_path):
    code, one, _ = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "--format", "json")
    code2, two, _ = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "--format", "json",
                           "--jobs", "2")
    assert code == code2 == 0 and one == two
    csv_path = tmp_path / "portfolio.csv"
    write_csv(csv_path, [p for p in PORTFOLIO if isinstance(p, dict)])
    code, out, _ = impact(capsys, str(csv_path), "--from", "base", "--to", "2027-test", "--format", "json",
                          "--jobs", "2")
    companies, summary = read_lines(out)
    _, expected = read_lines(one)
    assert code == 0 and summary["errors"] == 0 and summary["affected"] == expected["affected"]
    assert summary["totals"] == expected["totals"]


def test_the_text_report_names_the_companies_affected_and_sums_up(capsys, portfolio, tmp_path):
    output = tmp_path / "impact.txt"
    code, _, _ = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "-o", str(output))
    text = output.read_text(encoding="utf-8")
    assert code == 0
    assert "« base » à l’édition « 2027-test »" in text
    assert "Alpha" in text and "Beta" in text and "Omega" in text and "Gamma" not in text
    assert "640 000 DA HT → 700 000 DA HT" in text
    assert "concernées : 3" in text and "lignes rejetées : 1" in text
    assert "3 415 000 DA HT → 3 480 000 DA HT (écart : +65 000 DA HT)" in text
    assert "13 – 17 h/j → 16 – 20 h/j" in text
    code, out, _ = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "--lang", "en")
    assert code == 0 and "affected: 3" in out and "(difference: +65 000 DA excl. tax)" in out.replace(",", " ")


def test_the_same_edition_on_both_sides_changes_nothing(capsys, portfolio):
    code, out, _ = impact(capsys, str(portfolio), "--from", "2027-test", "--to", "2027-test")
    assert code == 0 and "Aucune entreprise n’est concernée" in out
    code, out, _ = impact(capsys, str(portfolio), "--from", "base", "--to", "base", "--format", "json")
    companies, summary = read_lines(out)
    assert summary["affected"] == 0 and summary["totals"]["change"]["investment_da_ht"] == {"min": 0, "max": 0}


def test_bad_editions_and_files_are_exit_2(capsys, portfolio, tmp_path):
    code, _, err = impact(capsys, str(portfolio), "--from", "base", "--to", "2099")
    assert code == 2 and one_clean_line(err) and "available: base, 2027-test" in err
    code, _, err = impact(capsys, str(tmp_path / "none.csv"), "--from", "base", "--to", "2027-test")
    assert code == 2 and one_clean_line(err)
    code, _, err = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "-o", str(tmp_path))
    assert code == 2 and one_clean_line(err) and "folder" in err
    code, _, err = impact(capsys, str(portfolio), "--from", "base", "--to", "2027-test", "-o", str(portfolio))
    assert code == 2 and "input" in err


def test_company_impact_names_status_and_step_changes(kb):
    """The engine's comparison on two different situations (an edition changes figures, not
    conditions; the comparison itself is general)."""
    before = assess(check_profile(ALPHA, kb), kb)
    after = assess(check_profile(dict(ALPHA, local_network=True, goals=["network", "internet_skills"]), kb), kb)
    change = company_impact(before, after)
    assert change["changed"]
    expected = [{"fiche": n, "from": s.status, "to": after.evaluation.statuses[n].status}
                for n, s in before.evaluation.statuses.items() if s.status != after.evaluation.statuses[n].status]
    assert change["statuses"] == expected != []
    assert "f19" in change["plan"]["added"]
    summary = ImpactSummary()
    summary.add({"changed": True, "statuses": change["statuses"], "plan": change["plan"], "totals": change["totals"]})
    summary.add(None)
    data = summary.as_dict()
    assert data["affected"] == 1 and data["status_changes"] == 1 and data["plan_changes"] == 1 and data["errors"] == 1


def test_the_shared_evaluation_plans_as_a_fresh_assessment_would(kb):
    """assess_pair evaluates a profile once for both editions (they share the conditions):
    each plan must be what `assess` alone gives under that edition."""
    from bench.portfolio import profiles
    from pnman.engine.impact import assess_pair
    from pnman.knowledge.editions import knowledge_for
    edited = knowledge_for("2027-test")
    for raw in profiles(150, seed=21):
        profile = check_profile(raw, kb)
        before, after = assess_pair(profile, kb, edited)
        assert before.record(timestamp="t") == assess(profile, kb).record(timestamp="t")
        assert after.record(timestamp="t") == assess(profile, edited).record(timestamp="t")
