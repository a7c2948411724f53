"""The UI-free interview (interview/questionnaire/machine.py): the one loop every face drives."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnman.engine.facade import assess
from pnman.engine.questioning import opening_questions
from pnman.interview.questionnaire.machine import Interview, MemoryState
from pnman.interview.questionnaire.session import open_session, profile_text
from pnman.interview.render.l10n import Words, localise
from pnman.knowledge.errors import ProfileError
from pnman.knowledge.locales import available_languages
from pnman.knowledge.profile import check_profile, load_profile
from strategies import KB, profiles

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUESTION_KEYS = {"key", "text", "help", "kind", "choices", "default"}       # contract §7
START = {"employees": 7, "goals": ["start_it"], "fiches": []}


class CountingState(MemoryState):
    """A memory state that counts its saves: every change must be saved at once."""
    saves = 0

    def save(self) -> None:
        self.saves += 1


def interview(lang: str = "fr", require_request: bool = False, **state) -> Interview:
    return Interview(KB, Words(lang, KB), CountingState(lang=lang, **state), require_request=require_request)


def answered(answers: dict, lang: str = "fr", require_request: bool = False) -> Interview:
    """An interview that has asked and answered `answers`, in order, through the machine."""
    machine = interview(lang, require_request)
    for key, value in answers.items():
        assert machine.next().key == key
        machine.answer(key, value)
    return machine


def drive(profile: dict, lang: str = "fr") -> tuple[list[str], dict]:
    """Answer each question from the profile (absent: « je ne sais pas ») until none is left."""
    machine = interview(lang)
    keys = []
    while (step := machine.next()) is not None:
        keys.append(step.key)
        machine.answer(step.key, profile.get(step.key))
    return keys, machine.finish()


def snapshot(machine: Interview) -> tuple:
    state = machine.state
    return copy.deepcopy(state.answers), list(state.asked), state.status, state.saves


# -- next ------------------------------------------------------------------------------------
def test_the_opening_questions_come_first_in_order():
    machine = interview()
    keys = []
    for key, value in START.items():
        step = machine.next()
        keys.append(step.key)
        machine.answer(step.key, value)
    assert tuple(keys) == opening_questions(KB)


def test_a_step_is_the_contract_question_as_json():
    step = interview().next()
    data = step.as_dict()
    assert QUESTION_KEYS <= set(data)
    assert json.loads(json.dumps(data)) == data
    assert data["key"] == "employees" and data["kind"] == "int" and data["input"] == "int"
    assert data["required"] is True and data["min"] == KB.facts["employees"].min
    assert data["progress"]["n"] == 1 and data["progress"]["total"] >= 1
    assert data["text"] == Words("fr", KB)("questions.employees.text")


def test_choices_are_values_with_labels_in_the_language():
    machine = answered({"employees": 7})
    goals = machine.next().as_dict()
    assert goals["kind"] == "multi" and goals["input"] == "goals"
    assert {"value": "start_it", "label": Words("fr", KB).goal("start_it")} in goals["choices"]
    assert [c["value"] for c in goals["choices"]] == list(KB.guide.goals)
    english = answered({"employees": 7}, lang="en").next()
    assert [c["value"] for c in english.choices] == list(KB.guide.goals)
    assert english.choices[0]["label"] == Words("en", KB).goal("gpao")


def test_every_api_kind_is_one_of_the_contract():
    machine = answered(START)
    for key in KB.facts:
        step = machine.question(key)
        assert step.kind in {"bool", "int", "choice", "multi"} or step.key == "name"
        if step.kind == "bool":
            assert [c["value"] for c in step.choices] == [True, False]


def test_progress_counts_the_questions_asked():
    machine = answered(START)
    step = machine.next()
    assert step.progress["n"] == len(START) + 1
    assert step.progress["total"] >= step.progress["n"]
    machine.answer("name", "Menuiserie")            # the name is not a question of the count
    assert machine.next().progress["n"] == len(START) + 1


def test_help_is_the_question_s_own_else_the_guide_sentence():
    words = Words("fr", KB)
    assert interview().next().help == words("questions.employees.help")
    machine = answered(START)
    step = machine.next()
    assert words.cat.get(f"questions.{step.key}.help") is None
    assert step.help.startswith("« ") and "fiche 13" in step.help


def test_an_implied_value_is_offered_with_its_rule():
    answers = {"employees": 7, "goals": ["server"], "fiches": [], "pnman_member": True,
               "diagnostic_approved": True, "recommendations": ["tic_investment", "tic_upgrade"],
               "general_conditions": True, "it_manager": True, "uses_it": False, "workstations_needed": 4,
               "minimal_it_skills": True}
    machine = answered(answers)
    step = machine.next()
    assert step.key == "local_network"
    assert step.default is False and step.implied_by in KB.implication
    assert "local_network" not in machine.state.answers          # offered, not assumed


# -- answer ----------------------------------------------------------------------------------
def test_an_answer_is_recorded_and_saved():
    machine = interview()
    machine.answer("employees", 12)
    assert machine.state.answers == {"employees": 12} and machine.state.asked == ["employees"]
    assert machine.state.saves == 1
    assert machine.next().key == "goals"


@pytest.mark.parametrize("key,value", [("employees", "douze"), ("employees", -1), ("employees", True),
                                       ("employees", None)])
def test_a_bad_value_is_refused_and_changes_nothing(key, value):
    machine = interview()
    before = snapshot(machine)
    with pytest.raises(ProfileError) as err:
        machine.answer(key, value)
    assert err.value.key == key
    assert snapshot(machine) == before
    assert machine.next().key == "employees"


def test_a_bad_choice_is_refused_and_changes_nothing():
    machine = answered({"employees": 7})
    before = snapshot(machine)
    with pytest.raises(ProfileError, match="did you mean 'start_it'"):
        machine.answer("goals", ["start-it"])
    assert snapshot(machine) == before


def test_a_key_that_is_not_asked_is_refused():
    machine = answered(START)
    before = snapshot(machine)
    pending = machine.next().key
    with pytest.raises(ProfileError, match=f"the question now is '{pending}'"):
        machine.answer("web_staff", True)
    with pytest.raises(ProfileError, match="did you mean"):
        machine.answer("employes", 8)
    assert snapshot(machine) == before


def test_the_name_may_be_given_at_any_time_and_an_asked_key_changed():
    machine = answered(START)
    pending = machine.next().key
    machine.answer("name", "Menuiserie Benali")
    machine.answer("employees", 30)                    # changed, e.g. from the review
    assert machine.state.answers["name"] == "Menuiserie Benali"
    assert machine.state.answers["employees"] == 30
    assert machine.state.asked.count("employees") == 1
    assert machine.next().key == pending


def test_unknown_keeps_the_key_unknown_but_asked():
    machine = answered(START)
    key = machine.next().key
    machine.answer(key, None)
    assert key in machine.state.asked and key not in machine.state.answers
    assert machine.next().key != key


# -- the request of an interview a person answers ----------------------------------------------
@pytest.mark.parametrize("empty", [[], None])
def test_an_interactive_interview_refuses_an_empty_goal_list(empty):
    machine = answered({"employees": 7}, require_request=True)
    step = machine.next()
    assert step.key == "goals" and step.at_least_one is True
    before = snapshot(machine)
    with pytest.raises(ProfileError, match="at least one goal") as err:
        machine.answer("goals", empty)
    assert err.value.key == "goals"
    assert snapshot(machine) == before and machine.next().key == "goals"
    machine.answer("goals", ["start_it"])
    step = machine.next()
    assert step.key == "fiches" and step.at_least_one is False       # a goal is enough
    machine.answer("fiches", [])
    assert machine.state.answers["fiches"] == []


def test_fiches_may_be_named_first_instead_of_goals():
    machine = answered({"employees": 7}, require_request=True)
    fiches = machine.question("fiches")
    assert fiches.at_least_one is True                                # no goal yet: a fiche is needed
    before = snapshot(machine)
    with pytest.raises(ProfileError, match="at least one goal"):
        machine.answer("fiches", [])
    assert snapshot(machine) == before
    machine.answer("fiches", [13])
    step = machine.next()
    assert step.key == "goals" and step.at_least_one is False
    machine.answer("goals", [])
    assert machine.state.asked == ["employees", "fiches", "goals"]
    assert machine.next().key not in ("goals", "fiches")


def test_only_the_request_may_come_out_of_order():
    machine = answered({"employees": 7}, require_request=True)
    with pytest.raises(ProfileError, match="the question now is 'goals'"):
        machine.answer("pnman_member", True)
    plain = answered({"employees": 7})                                # headless: the order is the engine's
    with pytest.raises(ProfileError, match="the question now is 'goals'"):
        plain.answer("fiches", [13])


def test_a_review_change_cannot_empty_the_request():
    machine = answered(START, require_request=True)
    with pytest.raises(ProfileError, match="at least one goal"):
        machine.answer("goals", [])
    machine.answer("fiches", [16])
    machine.answer("goals", [])                                       # fiches named: no goal is fine
    with pytest.raises(ProfileError, match="at least one goal"):
        machine.answer("fiches", [])
    assert machine.state.answers["fiches"] == [16] and machine.state.answers["goals"] == []


def test_headless_and_api_interviews_accept_a_profile_that_asks_for_nothing():
    machine = answered({"employees": 7})
    assert machine.next().at_least_one is False
    machine.answer("goals", [])
    machine.answer("fiches", [])
    assert machine.next() is None and machine.finish()["plan"] == []


def _drive_person(profile: dict) -> dict:
    """Answer like a person in the terminal: the fiches first when there is no goal."""
    machine = interview(require_request=True)
    while (step := machine.next()) is not None:
        if step.key == "goals" and not profile.get("goals") and "fiches" not in machine.state.asked:
            machine.answer("fiches", profile.get("fiches"))
        machine.answer(step.key, profile.get(step.key))
    return machine.finish()


@SETTINGS
@given(profiles(complete=True, max_goals=2).filter(lambda p: p.get("goals") or p.get("fiches")))
def test_an_interactive_interview_is_sound_for_a_profile_that_asks_for_something(profile):
    full = localise(assess(check_profile(profile, KB), KB).record(), Words("fr", KB))
    assert _relevant_view(_drive_person(profile)) == _relevant_view(full)


# -- back ------------------------------------------------------------------------------------
def test_back_asks_the_last_question_again_with_its_answer():
    machine = answered(START)
    first = machine.next().key
    machine.answer(first, True)
    machine.next()
    step = machine.back()
    assert step.key == first and step.default is True and step.implied_by is None
    assert first not in machine.state.asked and first not in machine.state.answers
    assert machine.next() == step
    machine.answer(first, False)
    assert machine.state.answers[first] is False and machine.state.asked[-1] == first


def test_back_at_the_first_question_keeps_the_name():
    machine = interview()
    machine.answer("name", "Menuiserie")
    assert machine.back() is None
    assert machine.state.asked == ["name"] and machine.state.answers == {"name": "Menuiserie"}
    machine.answer("employees", 7)
    assert machine.back().key == "employees"
    assert machine.state.answers == {"name": "Menuiserie"}


# -- review and finish ------------------------------------------------------------------------
def test_review_lists_the_answers_in_words():
    machine = answered(START)
    key = machine.next().key
    machine.answer(key, None)
    words = Words("fr", KB)
    review = machine.review()
    assert [item["key"] for item in review] == [*START, key]
    assert review[0] == {"key": "employees", "question": words("questions.employees.text"), "value": 7,
                         "answer": "7"}
    assert review[1]["answer"] == words.goal("start_it")
    assert review[-1]["answer"] == words("answers.unknown")


def test_finish_gives_the_localised_record_and_completes_the_session():
    machine = answered(START)
    while (step := machine.next()) is not None:
        machine.answer(step.key, None)
    saves = machine.state.saves
    record = machine.finish()
    assert record["lang"] == "fr" and record["profile"] == START
    assert record["decision_digest"] == assess(START, KB).record()["decision_digest"]
    assert machine.state.status == "completed" and machine.state.saves == saves + 1


def test_a_session_file_follows_every_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    session = open_session("m", KB, resume=False, lang="en")
    try:
        machine = Interview(KB, Words("en", KB), session)
        machine.answer("employees", 9)
        with pytest.raises(ProfileError):
            machine.answer("goals", ["nothing"])
        saved = json.loads(session.path.read_text(encoding="utf-8"))
        assert saved["answers"] == {"employees": 9} and saved["asked"] == ["employees"]
        machine.back()
        saved = json.loads(session.path.read_text(encoding="utf-8"))
        assert saved["answers"] == {} and saved["asked"] == []
    finally:
        session.close()


# -- properties -------------------------------------------------------------------------------
def _relevant_view(record: dict) -> dict:
    goals = {KB.guide.goals[g].fiche for g in record["profile"].get("goals") or []}
    goals |= set(record["profile"].get("fiches") or [])
    planned = {s["fiche"] for s in record["plan"] if s["kind"] == "fiche"}
    statuses = {e["fiche"]: e["status"] for e in record["fiches"] if e["fiche"] in goals | planned}
    return {"plan": record["plan"], "totals": record["totals"], "statuses": statuses}


@SETTINGS
@given(profiles(complete=True, max_goals=2))
def test_answering_every_next_from_a_complete_profile_is_sound(profile):
    """Contract §6/§7: the interview ends with the full profile's plan, totals and statuses."""
    words = Words("fr", KB)
    full = localise(assess(check_profile(profile, KB), KB).record(), words)
    _, record = drive(profile)
    assert _relevant_view(record) == _relevant_view(full)


@SETTINGS
@given(profiles(complete=False, max_goals=2), st.sampled_from([lang for lang in available_languages() if lang != "fr"]))
def test_the_language_changes_no_question_and_no_decision(profile, other):
    fr_keys, fr_record = drive(profile, "fr")
    other_keys, other_record = drive(profile, other)
    assert fr_keys == other_keys
    assert fr_record["decision_digest"] == other_record["decision_digest"]
    assert (fr_record["lang"], other_record["lang"]) == ("fr", other)


NAMES = st.one_of(st.sampled_from(["yes", "no", "1:20", "null", "~", "Menuiserie: Benali #1", "- x", "'q'", '"d"',
                                   "Ünïcödé « SARL »", " padded ", "", "0x1F", "2024-01-01", "a\nb"]),
                  st.text(max_size=40))


@SETTINGS
@given(profile=profiles(complete=False, max_goals=3), name=NAMES, lang=st.sampled_from(["fr", "en"]))
def test_the_profile_file_reads_back_as_the_answers(profile, name, lang, tmp_path_factory):
    """What an interview leaves beside its session (<session>.profile.yaml) is what
    `pnman assess` reads: the same keys, the same values, a name of any text included."""
    answers = {"name": name, **profile}
    header = Words(lang, KB)("interview.profile_header", session="s", path="/x/s.profile.yaml")
    path = tmp_path_factory.mktemp("profile") / "s.profile.yaml"
    path.write_text(profile_text(answers, list(profile), header), encoding="utf-8")
    assert dict(load_profile(str(path), KB)) == answers


def test_each_alternative_of_a_check_is_worth_asking(kb):
    """Fiches 26 and 27 need « un site web d’entreprise ou d’un site web e-commerce »: with neither
    known, the plan checks both, and each is a question whose answer can change the outcome."""
    from pnman.engine.questioning import is_useful, outcome
    answers = {"employees": 20, "industrial": True, "pnman_member": True, "diagnostic_approved": True,
               "recommendations": ["tic_coaching", "tic_upgrade"], "general_conditions": True,
               "it_infrastructure": True, "web_staff": True, "goals": ["emarketing"]}
    current = outcome(answers, kb)
    check = next(s for s in current.plan.steps if s.check_only and s.fact == "website")
    assert check.any_of == ("website", "ecommerce_site")
    assert is_useful("website", answers, current, kb) and is_useful("ecommerce_site", answers, current, kb)


def test_the_terminal_review_wraps_long_answers_and_never_cuts_them(monkeypatch):
    """At 80 columns a review line holds the whole question and every goal: wrapped between
    words (French « ? » kept with its word), nothing cut."""
    from pnman.interview.questionnaire.prompts import _wrapped
    monkeypatch.setenv("COLUMNS", "80")
    text = ("Quels sont les objectifs de l’entreprise pour ses outils informatiques ? — Un site web d’entreprise, "
            "Promouvoir l’entreprise sur Internet (e-marketing), Une gestion commerciale (CRM)")
    lines = _wrapped(text).split("\n")
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    assert " ".join(line.strip() for line in lines).replace("\u00a0", " ") == text
    assert not any(line.strip().startswith("?") for line in lines)


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_step_as_a_dict_is_the_dataclass_itself_and_a_copy(lang):
    """Step.as_dict (written out for speed) gives dataclasses.asdict's fields in its order,
    with copies the caller may change."""
    from dataclasses import asdict
    interview = Interview(KB, Words(lang, KB), MemoryState(lang=lang, answers={"employees": 20}, asked=["employees"]))
    interview.answer("goals", ["website", "start_it"])
    interview.answer("fiches", [])
    steps = [interview.next(), interview.question("fiches"), interview.question("goals")]
    interview.back()
    steps.append(interview.next())          # the fiches again, its old answer as the default
    assert any(step.help_citation for step in steps) and any(step.default for step in steps)
    for step in steps:
        shown = step.as_dict()
        expected = asdict(step) | {"choices": [dict(c) for c in step.choices], "progress": dict(step.progress)}
        assert shown == expected and list(shown) == list(expected)
        for value in shown.values():
            if isinstance(value, (list, dict)):
                value.clear()
        assert step.as_dict() == expected
