"""The real prompts, driven through a pipe (prompt_toolkit pipe input + DummyOutput)."""
from __future__ import annotations

import io
import json
import re

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from pnman.interview.cli.main import main
from pnman.interview.questionnaire import session as session_mod
from pnman.interview.questionnaire.terminal import interactive
from pnman.knowledge.errors import InputError
from pnman.knowledge.locales import catalogue

pytestmark = pytest.mark.slow

UP, DOWN, ENTER, SPACE, CTRL_C = "\x1b[A", "\x1b[B", "\r", " ", "\x03"
ERASE = "\x7f"
YES = UP + UP + ENTER          # the cursor starts on « Je ne sais pas »
NO = UP + ENTER
UNKNOWN = ENTER
BACK = DOWN + ENTER
START_IT = DOWN * 6 + SPACE + ENTER          # goals checkbox: « S’équiper en informatique… »
TIC_INVESTMENT = DOWN + SPACE + ENTER        # recommendations checkbox
REPORT = ENTER                               # the report: Enter writes it where offered
FR, EN = catalogue("fr"), catalogue("en")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)                 # where the report is offered
    return tmp_path


def drive(kb, keys: str, *, name="s", resume=False, lang="fr", screen: io.StringIO | None = None, **report) -> int:
    """Run the interview on `keys`; `screen` collects what the prompts draw (escape codes included)."""
    output = DummyOutput() if screen is None else Vt100_Output(screen, lambda: Size(rows=60, columns=200),
                                                                  term="xterm", enable_cpr=False)
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        with create_app_session(input=pipe, output=output):
            return interactive(kb, session_name=name, resume=resume, lang=lang, **report)


def plain(screen: io.StringIO) -> str:
    """The words a terminal would show: escape codes dropped."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]", "", screen.getvalue())


def saved(home, name="s") -> dict:
    return json.loads((home / "sessions" / f"{name}.json").read_text(encoding="utf-8"))


FULL = ("Menuiserie Benali" + ENTER + "7" + ENTER + START_IT + ENTER + YES + YES + TIC_INVESTMENT + YES
        + NO + "4" + ENTER + YES + YES + ENTER + REPORT)
ANSWERS = {"name": "Menuiserie Benali", "employees": 7, "goals": ["start_it"], "fiches": [],
           "pnman_member": True, "diagnostic_approved": True, "recommendations": ["tic_investment"],
           "general_conditions": True, "uses_it": False, "workstations_needed": 4, "it_manager": True,
           "minimal_it_skills": True}


def test_full_interview_gives_a_plan_and_saves_it(kb, home, capsys):
    assert drive(kb, FULL) == 0
    session = saved(home)
    assert session["status"] == "completed"
    assert session["answers"] == ANSWERS
    result = json.loads((home / "sessions" / "s.result.json").read_text(encoding="utf-8"))
    assert [s["fiche"] for s in result["plan"] if s["kind"] == "fiche"] == [13]
    out = capsys.readouterr().out
    assert "Équipement de démarrage" in out and "460 000 DA HT" in out


# -- the report at the end ------------------------------------------------------------------
def test_the_interview_ends_by_writing_the_html_report_where_offered(kb, home, capsys):
    assert drive(kb, FULL) == 0
    report = home / "rapport-s.html"            # offered in the current folder; Enter accepts it
    assert report.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert "Menuiserie Benali" in report.read_text(encoding="utf-8")
    assert str(report) in capsys.readouterr().out


def test_another_file_may_be_typed_and_its_extension_gives_the_format(kb, home):
    erase = ERASE * len("rapport-s.html")
    assert drive(kb, FULL[:-len(REPORT)] + erase + "plan.md" + ENTER) == 0
    assert (home / "plan.md").read_text(encoding="utf-8").startswith("# PNMAN")
    assert not (home / "rapport-s.html").exists()


def test_an_empty_field_writes_no_report_and_says_how_to_get_it(kb, home, capsys):
    erase = ERASE * len("rapport-s.html")
    assert drive(kb, FULL[:-len(REPORT)] + erase + ENTER) == 0
    assert not list(home.glob("rapport-*"))
    assert "pnman assess " + str(home / "sessions" / "s.profile.yaml") in capsys.readouterr().out


@pytest.mark.parametrize("fmt,start", [("html", "<!doctype html"), ("markdown", "# PNMAN"),
                                       ("json", "{"), ("text", "Entreprise : Menuiserie Benali")])
def test_dash_o_writes_the_report_in_the_format_without_asking(kb, home, fmt, start):
    target = home / f"out.{fmt}"
    assert drive(kb, FULL[:-len(REPORT)], output=str(target), fmt=fmt) == 0     # no key for the report
    assert target.read_text(encoding="utf-8").lower().startswith(start.lower())
    if fmt == "json":
        assert json.loads(target.read_text(encoding="utf-8"))["profile"] == ANSWERS


def test_dash_o_into_a_missing_folder_is_refused_before_the_first_question(kb, home):
    with pytest.raises(InputError, match="folder does not exist"):
        drive(kb, "", output=str(home / "nowhere" / "r.html"))
    assert not (home / "sessions" / "s.json").exists()


def test_the_profile_file_holds_the_answers_and_pnman_assess_reads_it(kb, home, capsys):
    assert drive(kb, FULL) == 0
    profile = home / "sessions" / "s.profile.yaml"
    text = profile.read_text(encoding="utf-8")
    assert text.startswith("# ") and "pnman assess" in text
    capsys.readouterr()
    assert main(["assess", str(profile), "--format", "json"]) == 0
    assessed = json.loads(capsys.readouterr().out)
    result = json.loads((home / "sessions" / "s.result.json").read_text(encoding="utf-8"))
    assert assessed["profile"] == ANSWERS
    assert assessed["decision_digest"] == result["decision_digest"]


def test_the_profile_file_leaves_unknown_answers_out(kb, home, capsys):
    # membership « je ne sais pas »: the interview goes on, and the key stays out of the profile
    keys = ENTER + "7" + ENTER + START_IT + ENTER + UNKNOWN + YES + TIC_INVESTMENT + YES + NO + "4" + ENTER
    keys += YES + YES + ENTER + REPORT
    assert drive(kb, keys) == 0
    session = saved(home)
    assert "pnman_member" in session["asked"] and "pnman_member" not in session["answers"]
    capsys.readouterr()
    assert main(["assess", str(home / "sessions" / "s.profile.yaml"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"] == session["answers"]


# -- an empty goal list ---------------------------------------------------------------------
def spy_prompts(monkeypatch) -> list[tuple[str, dict]]:
    """Record every questionary prompt the interview builds: its kind, and its arguments
    (the message as `message`)."""
    import questionary
    calls = []
    for kind in ("select", "checkbox", "text"):
        def spy(message, *args, _real=getattr(questionary, kind), _kind=kind, **kwargs):
            calls.append((_kind, {"message": message, **kwargs}))
            return _real(message, *args, **kwargs)
        monkeypatch.setattr(questionary, kind, spy)
    return calls


def test_no_goal_ticked_is_refused_with_a_hint_about_space(kb, home, monkeypatch):
    calls = spy_prompts(monkeypatch)
    keys = ENTER + "7" + ENTER + ENTER + START_IT + CTRL_C       # Enter with nothing ticked: refused
    assert drive(kb, keys) == 130
    session = saved(home)
    assert session["answers"]["goals"] == ["start_it"]
    assert session["asked"] == ["name", "employees", "goals"]
    (goals,) = [kwargs for kind, kwargs in calls if kind == "checkbox"]
    assert goals["validate"]([]) == FR.text("prompts.goals_required")
    assert "Espace" in FR.text("prompts.goals_required") and "Space" in EN.text("prompts.goals_required")
    assert goals["validate"](["start_it"]) is True and goals["validate"](["back"]) is True


def test_fiches_named_by_the_diagnostic_instead_of_goals(kb, home, monkeypatch):
    calls = spy_prompts(monkeypatch)
    no_goal = DOWN * 18 + SPACE + ENTER            # « Aucun de ces objectifs : le diagnostic désigne des fiches »
    keys = ENTER + "7" + ENTER + no_goal + ENTER + "13" + ENTER + CTRL_C     # an empty list of fiches: refused
    assert drive(kb, keys) == 130
    session = saved(home)
    assert session["answers"]["fiches"] == [13] and session["answers"]["goals"] == []
    assert session["asked"] == ["name", "employees", "fiches", "goals"]
    fiches = calls[-1][1] if calls[-1][0] == "text" else [k for kind, k in calls if kind == "text"][-1]
    assert fiches["validate"]("") == FR.text("prompts.fiches_required")
    assert fiches["instruction"] == FR.text("prompts.fiches_required_help")


def test_no_recommendation_ticked_is_refused_and_none_is_its_own_choice(kb, home, monkeypatch):
    calls = spy_prompts(monkeypatch)
    none_of_these = DOWN * 5 + SPACE + ENTER
    keys = ENTER + "7" + ENTER + START_IT + ENTER + YES + YES + ENTER + none_of_these + CTRL_C
    assert drive(kb, keys) == 130
    session = saved(home)
    assert session["answers"]["recommendations"] == [] and session["asked"][-1] == "recommendations"
    recommendations = [k for kind, k in calls if kind == "checkbox"][-1]
    assert recommendations["validate"]([]) == FR.text("prompts.at_least_one")
    assert recommendations["validate"](["none"]) is True and recommendations["validate"](["unknown"]) is True


def test_back_from_the_fiches_returns_to_the_goals(kb, home):
    no_goal = DOWN * 18 + SPACE + ENTER
    keys = ENTER + "7" + ENTER + no_goal + "<" + ENTER + START_IT + CTRL_C
    assert drive(kb, keys) == 130
    session = saved(home)
    assert session["answers"]["goals"] == ["start_it"] and "fiches" not in session["answers"]


# -- questionary's own words --------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_english_hint_reaches_the_screen(kb, home, lang):
    screen = io.StringIO()
    keys = ENTER + "7" + ENTER + START_IT + ENTER + YES + YES + DOWN + SPACE + DOWN + SPACE + ENTER + CTRL_C
    assert drive(kb, keys, screen=screen, lang=lang) == 130
    shown = plain(screen)
    for english in ("Use arrow keys", "to select", "to toggle", "to invert", "Use shortcuts"):
        assert english not in shown
    # a checkbox's answer is shown in words (both recommendations ticked above)
    cat = FR if lang == "fr" else EN
    assert cat.text("choices.recommendations.tic_investment") + ", " in shown


def test_every_select_and_checkbox_gets_the_catalogue_s_hint(kb, home, monkeypatch):
    """questionary's own hint is English unless `instruction` is given; a checkbox would
    also leave « done (2 selections) » on screen unless it is erased once answered."""
    calls = spy_prompts(monkeypatch)
    assert drive(kb, ENTER + "7" + ENTER + CTRL_C) == 130
    assert drive(kb, RESUME + START_IT + YES + YES + TIC_INVESTMENT + CTRL_C) == 130
    assert drive(kb, FULL, name="other") == 0
    assert {kind for kind, _ in calls} == {"select", "checkbox", "text"}
    hints = {FR.text(f"prompts.{key}") for key in ("select_help", "checkbox_help", "text_help", "int_help",
                                                   "int_required", "fiches_help", "report_help")}
    for kind, kwargs in calls:
        assert kwargs.get("instruction") in hints, (kind, kwargs.get("instruction"))
        if kind == "checkbox":
            assert kwargs.get("erase_when_done") is True


def test_the_review_and_the_report_prompts_are_in_the_language_too(kb, home, monkeypatch):
    calls = spy_prompts(monkeypatch)
    assert drive(kb, FULL, lang="en") == 0
    review, report = calls[-2][1], calls[-1][1]
    assert review["message"] == EN.text("interview.review") and review["instruction"] == EN.text("prompts.select_help")
    assert report["message"] == EN.text("interview.report_ask") and report["default"] == "report-s.html"
    assert report["instruction"] == EN.text("prompts.report_help")
    assert (home / "report-s.html").exists()


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
    rest = TIC_INVESTMENT + YES + NO + "4" + ENTER + YES + YES + ENTER + REPORT
    assert drive(kb, rest, resume=True) == 0
    after = saved(home)
    assert after["status"] == "completed"
    assert {k: after["answers"][k] for k in before} == before
    assert after["answers"]["minimal_it_skills"] is True


def test_review_screen_changes_an_answer(kb, home):
    # at the review screen, go up to the last answer (minimal_it_skills), change it to « non »
    keys = FULL[:-len(ENTER + REPORT)] + UP + ENTER + DOWN + ENTER + ENTER + REPORT
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
            + ENTER                             # review: see the result
            + REPORT)
    assert drive(kb, keys) == 0
    session = saved(home)
    assert session["answers"]["local_network"] is False
    assert "D’après vos réponses : non" in capsys.readouterr().out


RESUME, RESTART = ENTER, DOWN + ENTER        # the question when a session of that name exists


def test_starting_over_a_saved_session_asks_and_enter_resumes_it(kb, home, monkeypatch):
    assert drive(kb, ENTER + "7" + ENTER + CTRL_C) == 130
    calls = spy_prompts(monkeypatch)
    assert drive(kb, RESUME + START_IT + CTRL_C) == 130   # no name asked again: resumed
    session = saved(home)
    assert session["answers"] == {"employees": 7, "goals": ["start_it"]}
    kind, question = calls[0]
    assert kind == "select" and question["message"].startswith("Une session « s » existe déjà (réponses : 1 ; en cours")
    assert [c.title for c in question["choices"]] == [FR.text("interview.resume"), FR.text("interview.restart")]
    assert not list((home / "sessions").glob("s-previous-*"))


def test_starting_afresh_keeps_the_old_session_as_one_to_resume(kb, home, capsys):
    assert drive(kb, ENTER + "7" + ENTER + CTRL_C) == 130
    assert drive(kb, RESTART + ENTER + "8" + ENTER + CTRL_C) == 130
    assert drive(kb, RESTART + ENTER + "9" + ENTER + CTRL_C) == 130
    folder = home / "sessions"
    previous = sorted(p for p in folder.glob("s-previous-*.json") if p.suffixes == [".json"])
    kept = sorted(json.loads(p.read_text(encoding="utf-8"))["answers"]["employees"] for p in previous)
    assert kept == [7, 8]                       # two quick restarts: neither old session is lost
    assert saved(home)["answers"]["employees"] == 9
    out = capsys.readouterr().out
    for path in previous:                       # each said where it is, and how to resume it
        assert str(path) in out and f"--session {path.stem} --resume" in out
    # and it is a session like any other: --resume reopens it where it stopped
    (first,) = [p.stem for p in previous if saved(home, p.stem)["answers"]["employees"] == 7]
    assert drive(kb, START_IT + CTRL_C, name=first, resume=True) == 130
    assert saved(home, first)["answers"] == {"employees": 7, "goals": ["start_it"]}


def test_starting_afresh_over_a_finished_session_moves_its_result_and_profile_too(kb, home):
    assert drive(kb, FULL) == 0
    assert drive(kb, RESTART + ENTER + "8" + ENTER + CTRL_C) == 130
    folder = home / "sessions"
    (kept,) = (p for p in folder.glob("s-previous-*.json") if p.suffixes == [".json"])
    assert kept.with_name(kept.stem + ".result.json").exists()
    assert kept.with_name(kept.stem + ".profile.yaml").exists()
    assert not (folder / "s.result.json").exists() and not (folder / "s.profile.yaml").exists()


def test_a_long_session_name_keeps_its_previous_under_a_valid_name(kb, home):
    name = "x" * 64
    first = session_mod.open_session(name, kb, resume=False, lang="fr")
    first.close()
    second = session_mod.open_session(name, kb, resume=False, lang="fr")
    second.close()
    assert second.previous is not None and session_mod.NAME.match(second.previous.stem)
    session_mod.open_session(second.previous.stem, kb, resume=True, lang="fr").close()
