"""The real prompts, driven through a pipe (prompt_toolkit pipe input + DummyOutput)."""
from __future__ import annotations

import json

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from interview.questionnaire import session as session_mod
from interview.questionnaire.terminal import interactive
from knowledge.errors import InputError

UP, DOWN, ENTER, SPACE, CTRL_C = "\x1b[A", "\x1b[B", "\r", " ", "\x03"
YES = UP + UP + ENTER          # the cursor starts on « Je ne sais pas »
NO = UP + ENTER
UNKNOWN = ENTER
BACK = DOWN + ENTER
START_IT = DOWN * 6 + SPACE + ENTER          # goals checkbox: « S’équiper en informatique… »
TIC_INVESTMENT = DOWN + SPACE + ENTER        # recommendations checkbox


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    return tmp_path


def drive(kb, keys: str, *, name="s", resume=False, lang="fr") -> int:
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        with create_app_session(input=pipe, output=DummyOutput()):
            return interactive(kb, session_name=name, resume=resume, lang=lang)


def saved(home, name="s") -> dict:
    return json.loads((home / "sessions" / f"{name}.json").read_text(encoding="utf-8"))


FULL = ("Menuiserie Benali" + ENTER + "7" + ENTER + START_IT + ENTER + YES + YES + TIC_INVESTMENT + YES
        + NO + "4" + ENTER + YES + YES + ENTER)


def test_full_interview_gives_a_plan_and_saves_it(kb, home, capsys):
    assert drive(kb, FULL) == 0
    session = saved(home)
    assert session["status"] == "completed"
    assert session["answers"] == {"name": "Menuiserie Benali", "employees": 7, "goals": ["start_it"], "fiches": [],
                                  "pnman_member": True, "diagnostic_approved": True,
                                  "recommendations": ["tic_investment"], "general_conditions": True,
                                  "uses_it": False, "workstations_needed": 4, "it_manager": True,
                                  "minimal_it_skills": True}
    result = json.loads((home / "sessions" / "s.result.json").read_text(encoding="utf-8"))
    assert [s["fiche"] for s in result["plan"] if s["kind"] == "fiche"] == [13]
    assert (home / "sessions" / "s.report.md").read_text(encoding="utf-8").startswith("# PNMAN")
    out = capsys.readouterr().out
    assert "Équipement de démarrage" in out and "460 000 DA HT" in out


def test_invalid_headcount_is_asked_again(kb, home):
    erase = "\x7f"   # a refused answer stays in the field: erase it before typing again
    keys = ENTER + "douze" + ENTER + erase * 5 + "-1" + ENTER + erase * 2 + "12" + ENTER + CTRL_C
    assert drive(kb, keys) == 130
    assert saved(home)["answers"]["employees"] == 12


def test_going_back_reasks_the_previous_question(kb, home):
    # membership « oui »; at the next question go back: membership is asked again with
    # « oui » preselected; move down to « non ».
    keys = ENTER + "7" + ENTER + START_IT + ENTER + YES + BACK + DOWN + ENTER + CTRL_C
    assert drive(kb, keys) == 130
    session = saved(home)
    assert session["answers"]["pnman_member"] is False
    assert "diagnostic_approved" not in session["asked"]


def test_ctrl_c_then_resume_loses_nothing(kb, home, capsys):
    first = "Menuiserie Benali" + ENTER + "7" + ENTER + START_IT + ENTER + YES + YES + CTRL_C
    assert drive(kb, first) == 130
    err = capsys.readouterr().err
    assert "--resume" in err and "--session s" in err
    before = saved(home)["answers"]
    assert before["diagnostic_approved"] is True
    rest = TIC_INVESTMENT + YES + NO + "4" + ENTER + YES + YES + ENTER
    assert drive(kb, rest, resume=True) == 0
    after = saved(home)
    assert after["status"] == "completed"
    assert {k: after["answers"][k] for k in before} == before
    assert after["answers"]["minimal_it_skills"] is True


def test_review_screen_changes_an_answer(kb, home):
    # at the review screen, go up to the last answer (minimal_it_skills), change it to « non »
    keys = FULL[:-1] + UP + ENTER + DOWN + ENTER + ENTER
    assert drive(kb, keys) == 0
    assert saved(home)["answers"]["minimal_it_skills"] is False


def test_damaged_session_is_kept_aside_and_reported(kb, home):
    folder = home / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.json").write_text('{"schema": "pnman-session/1", "answers": [', encoding="utf-8")
    with pytest.raises(InputError) as err:
        drive(kb, "", resume=True)
    assert "damaged" in str(err.value) and "kept aside" in str(err.value)
    assert not (folder / "s.json").exists()
    assert len(list(folder.glob("s.json.damaged-*"))) == 1


def test_two_interviews_on_one_session_are_refused(kb, home):
    first = session_mod.open_session("s", kb, resume=False, lang="fr")
    try:
        with pytest.raises(InputError, match="already open in another interview"):
            session_mod.open_session("s", kb, resume=True, lang="fr")
    finally:
        first.close()


def test_bad_session_name(kb):
    with pytest.raises(InputError, match="session name"):
        session_mod.open_session("../etc", kb, resume=False, lang="fr")


def test_english_interview(kb, home, capsys):
    assert drive(kb, FULL, lang="en") == 0
    out = capsys.readouterr().out
    assert "Action plan" in out and "Company" in out
    assert saved(home)["lang"] == "en"


def test_an_implied_answer_is_offered_as_the_default(kb, home, capsys):
    server = DOWN * 11 + SPACE + ENTER
    two_recommendations = DOWN + SPACE + DOWN + SPACE + ENTER
    keys = (ENTER + "7" + ENTER + server + ENTER + YES + YES + two_recommendations + YES
            + YES + NO + "4" + ENTER + YES      # it_manager, uses_it, workstations, minimal skills
            + ENTER                             # local network: « non » is preselected (implied)
            + ENTER)                            # review: see the result
    assert drive(kb, keys) == 0
    session = saved(home)
    assert session["answers"]["local_network"] is False
    assert "D’après vos réponses : non" in capsys.readouterr().out


def test_a_new_interview_keeps_the_previous_session(kb, home, capsys):
    assert drive(kb, ENTER + "7" + ENTER + CTRL_C) == 130
    assert drive(kb, ENTER + "8" + ENTER + CTRL_C) == 130
    assert drive(kb, ENTER + "9" + ENTER + CTRL_C) == 130
    folder = home / "sessions"
    previous = sorted(folder.glob("s.json.previous-*"))
    kept = sorted(json.loads(p.read_text(encoding="utf-8"))["answers"]["employees"] for p in previous)
    assert kept == [7, 8]                       # two quick restarts: neither old session is lost
    assert saved(home)["answers"]["employees"] == 9
    assert "--resume" in capsys.readouterr().out
