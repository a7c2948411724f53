"""`pnman interview`: the guided questionnaire, interactive or headless."""
from __future__ import annotations

import sys

from engine.assess import assess
from engine.errors import InputError
from engine.knowledge import default as default_kb
from engine.planner import requested_fiches
from engine.questioning import next_question, outcome, pending_estimate

from . import prompts, render
from .output import console, to_json, write_atomic
from .questions import help_for, load_questions, render_answer
from .session import exists as session_exists
from .session import open_session

WORDS = {
    "fr": {"progress": "Question {n} sur environ {total}", "saved": "Réponses enregistrées dans {path}",
           "interrupted": "\nInterrompu. Vos {n} réponses sont enregistrées.\nPour reprendre : pnman interview --session {name} --resume",
           "result": "Résultat enregistré : {json} et {md}", "name": "Nom de l’entreprise (pour le rapport, facultatif)",
           "welcome": "PNMAN – guide n° 4 (TIC). Répondez aux questions ; « Je ne sais pas » est toujours possible.",
           "first": "Vous êtes à la première question."},
    "en": {"progress": "Question {n} of about {total}", "saved": "Answers saved in {path}",
           "interrupted": "\nInterrupted. Your {n} answers are saved.\nTo resume: pnman interview --session {name} --resume",
           "result": "Result saved: {json} and {md}", "name": "Company name (for the report, optional)",
           "welcome": "PNMAN – guide n° 4 (ICT). Answer the questions; « I don't know » is always possible.",
           "first": "This is the first question."},
}


def run_interview(args) -> int:
    kb = default_kb()
    if args.answers or args.transcript:
        return _headless(args, kb)
    if not sys.stdin.isatty():
        raise InputError("the interview needs a terminal; without one, run it headless with "
                         "--answers PROFILE --transcript OUT.json")
    return interactive(kb, session_name=args.session, resume=args.resume, lang=args.lang)


def _headless(args, kb) -> int:
    if not (args.answers and args.transcript):
        raise InputError("headless mode needs both --answers PROFILE and --transcript OUT.json")
    from engine.profile import load_profile

    from .headless import run_headless
    profile = load_profile(args.answers, kb)
    transcript = run_headless(profile, kb, lang=args.lang)
    write_atomic(args.transcript, to_json(transcript))
    print(f"{len(transcript['asked'])} questions; transcript: {args.transcript}", file=sys.stderr)
    return 0


def interactive(kb, *, session_name: str, resume: bool, lang: str) -> int:
    w = WORDS[lang]
    out = console()
    questions = load_questions(kb)
    had_one = not resume and session_exists(session_name)
    session = open_session(session_name, kb, resume=resume, lang=lang)
    if had_one:
        out.print(("Une session « {n} » existait : elle est conservée à côté (….previous-…) ; "
                   "pour la reprendre : pnman interview --session {n} --resume" if lang == "fr" else
                   "A session '{n}' existed: it is kept beside the new one (….previous-…); "
                   "to resume it instead: pnman interview --session {n} --resume").format(n=session_name),
                  markup=False, highlight=False)
    try:
        out.print(w["welcome"])
        if "name" not in session.answers and "name" not in session.asked:
            name = prompts.ask_text(questions["name"], lang, None, "")
            session.record("name", None if name is prompts.BACK else name)
        defaults: dict = {}
        while True:
            _questionnaire(session, kb, questions, lang, defaults, out)
            items = [(key, questions[key].prompt(lang), render_answer(questions[key], session.answers.get(key), lang))
                     for key in session.asked]
            change = prompts.review(items, lang)
            if change is None:
                break
            value = prompts.ask(questions[change], lang, session.answers.get(change), "", kb)
            if value is not prompts.BACK:
                session.record(change, value)
        result = assess(session.answers, kb, lang=lang)
        session.status = "completed"
        session.save()
        base = session.path.with_suffix("")
        json_path, md_path = base.with_name(base.name + ".result.json"), base.with_name(base.name + ".report.md")
        write_atomic(json_path, to_json(result))
        write_atomic(md_path, render.assessment_markdown(result, kb, lang))
        out.print(render.assessment_text(result, kb, lang), markup=False, highlight=False)
        out.print(w["result"].format(json=json_path, md=md_path), markup=False, highlight=False)
        return 0
    except (KeyboardInterrupt, EOFError):
        print(w["interrupted"].format(n=len(session.answers), name=session.name), file=sys.stderr)
        return 130
    finally:
        session.close()


def _questionnaire(session, kb, questions, lang, defaults, out) -> None:
    """Ask until no answer can change the outcome; supports going back."""
    w = WORDS[lang]
    while True:
        current = outcome(session.answers, kb)    # shared by the choice, the progress and the default
        key = next_question(session.answers, kb, asked=set(session.asked), current=current)
        if key is None:
            return
        q = questions[key]
        number = sum(1 for k in session.asked if k != "name") + 1
        total = max(number, number - 1 + pending_estimate(session.answers, kb, current))
        prefix = f"[{w['progress'].format(n=number, total=total)}] "
        help_line = help_for(q, kb, lang, [n for n, _ in requested_fiches(session.answers, kb)])
        if help_line:
            out.print(f"  {help_line}", style="dim", markup=False, highlight=False)
        default = session.answers.get(key, defaults.get(key))
        implied = current.evaluation.facts.get(key)
        if default is None and implied is not None and implied.source != "profile":
            default = implied.value       # offered, not assumed: the answer given is what counts
            note = "D’après vos réponses : {v} (déduit par {r}) ; confirmez ou corrigez." if lang == "fr" \
                else "From your answers: {v} (implied by {r}); confirm or correct."
            out.print("  " + note.format(v=render_answer(q, implied.value, lang), r=implied.source),
                      style="dim", markup=False, highlight=False)
        value = prompts.ask(q, lang, default, prefix, kb)
        if value is prompts.BACK:
            previous = session.undo_last()
            if previous is None or previous[0] == "name":
                if previous is not None:   # the name is not part of the questionnaire: put it back
                    session.record(*previous)
                out.print(w["first"])
                continue
            defaults[previous[0]] = previous[1]
            continue
        session.record(key, value)
