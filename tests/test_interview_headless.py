"""Headless interview: sound (same outcome as assessing the full profile) and economical."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from pnman.engine.facade import assess
from pnman.engine.questioning import _alternatives, opening_questions, outcome
from pnman.interview.questionnaire.headless import run_headless as _run_headless
from pnman.interview.render.l10n import Words, localise
from pnman.knowledge.profile import check_profile
from strategies import KB, profiles

SETTINGS = settings(max_examples=int(__import__("os").environ.get("PNMAN_EXAMPLES", 60)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPENING = opening_questions(KB)


def run_headless(profile, kb, lang="fr"):
    return _run_headless(profile, kb, Words(lang, kb))


def _relevant_view(result: dict) -> dict:
    goals = {KB.guide.goals[g].fiche for g in result["profile"].get("goals") or []}
    goals |= set(result["profile"].get("fiches") or [])
    planned = {s["fiche"] for s in result["plan"] if s["kind"] == "fiche"}
    statuses = {e["fiche"]: e["status"] for e in result["fiches"] if e["fiche"] in goals | planned}
    return {"plan": result["plan"], "totals": result["totals"], "statuses": statuses}


@SETTINGS
@given(profiles(complete=True, max_goals=2))
def test_transcript_result_is_sound_for_complete_profiles(profile):
    full = localise(assess(check_profile(profile, KB), KB).record(timestamp="fixed"), Words("fr", KB))
    transcript = run_headless(profile, KB)
    headless = transcript["result"]
    assert _relevant_view(headless) == _relevant_view(full)


@SETTINGS
@given(profiles(complete=True, max_goals=2))
def test_every_question_asked_could_change_the_outcome(profile):
    transcript = run_headless(profile, KB)
    answers: dict = {}
    for entry in transcript["asked"]:
        key = entry["key"]
        if key not in OPENING:
            signatures = {outcome({**answers, key: v}, KB).signature for v in _alternatives(key, KB)}
            if key not in answers:
                signatures.add(outcome(answers, KB).signature)
            assert len(signatures) > 1, (key, answers)
        if entry["answer"] is not None:
            answers[key] = entry["answer"]


def test_questions_are_asked_one_at_a_time_from_the_answers(kb):
    profile = {"employees": 8, "goals": ["start_it"], "uses_it": True, "pnman_member": True,
               "diagnostic_approved": True, "recommendations": ["tic_investment"], "general_conditions": True}
    transcript = run_headless(profile, kb)
    keys = [a["key"] for a in transcript["asked"]]
    assert keys[:3] == ["employees", "goals", "fiches"]
    # Hard conditions come before prerequisites; once the company is out of scope
    # (it already uses IT), no prerequisite of fiche 13 is asked.
    assert "it_manager" not in keys and "minimal_it_skills" not in keys
    assert transcript["result"]["fiches"][12]["status"] == "ineligible"


def test_unknown_answers_leave_keys_unknown(kb):
    transcript = run_headless({"employees": 20, "goals": ["network"]}, kb)
    assert all(a["answer"] is None for a in transcript["asked"][2:])
    assert transcript["result"]["fiches"][15]["status"] == "unknown"
    assert "pnman_member" not in transcript["result"]["profile"]


def test_no_goal_no_question_beyond_the_opening(kb):
    transcript = run_headless({"employees": 20}, kb)
    assert [a["key"] for a in transcript["asked"]] == list(OPENING)
    assert transcript["result"]["plan"] == []


def test_headless_interview_writes_the_report_with_dash_o(kb, tmp_path, capsys):
    from pnman.interview.cli.main import main
    profile = tmp_path / "p.yaml"
    profile.write_text("name: Menuiserie\nemployees: 7\ngoals: [start_it]\npnman_member: true\n", encoding="utf-8")
    transcript, report = tmp_path / "t.json", tmp_path / "r.md"
    assert main(["interview", "--answers", str(profile), "--transcript", str(transcript), "-o", str(report)]) == 0
    assert report.read_text(encoding="utf-8").startswith("# PNMAN")          # the extension gives the format
    other = tmp_path / "r.out"
    assert main(["interview", "--answers", str(profile), "--transcript", str(transcript),
                 "--format", "html", "-o", str(other)]) == 0
    assert other.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert str(other) in capsys.readouterr().err
    plain = tmp_path / "plain"                                               # no extension, no --format: HTML
    assert main(["interview", "--answers", str(profile), "--transcript", str(transcript), "-o", str(plain)]) == 0
    assert plain.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
