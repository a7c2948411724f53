"""`pnman interview`: the guided questionnaire in a terminal, or headless.

A thin face over machine.Interview: it shows each step with questionary, hands the
answer back, and writes the result beside the session. Which question comes next, what
is offered as a default and what is accepted are the machine's business.
"""
from __future__ import annotations

import sys

import knowledge
from knowledge.errors import InputError, ProfileError

from ..files import console, to_json, write_atomic
from ..render.l10n import Words
from . import prompts
from .machine import Interview
from .session import exists as session_exists
from .session import open_session


def run_interview(args) -> int:
    """The CLI entry point: headless with --answers/--transcript, else interactive."""
    kb = knowledge.default()
    if args.answers or args.transcript:
        return _headless(args, kb)
    if not sys.stdin.isatty():
        raise InputError("the interview needs a terminal; without one, run it headless with "
                         "--answers PROFILE --transcript OUT.json")
    return interactive(kb, session_name=args.session, resume=args.resume, lang=args.lang)


def _headless(args, kb) -> int:
    if not (args.answers and args.transcript):
        raise InputError("headless mode needs both --answers PROFILE and --transcript OUT.json")
    from knowledge.profile import load_profile

    from .headless import run_headless
    words = Words(args.lang, kb)
    profile = load_profile(args.answers, kb)
    transcript = run_headless(profile, kb, words)
    write_atomic(args.transcript, to_json(transcript))
    print(words("interview.transcript", count=len(transcript["asked"]), path=args.transcript), file=sys.stderr)
    return 0


def interactive(kb, *, session_name: str, resume: bool, lang: str) -> int:
    """Name, questions (with « retour »), review, result; Ctrl-C keeps every answer given."""
    w = Words(lang, kb)
    out = console()
    had_one = not resume and session_exists(session_name)
    session = open_session(session_name, kb, resume=resume, lang=lang)
    if had_one:
        _say(out, w("interview.previous_session", name=session_name))
    interview = Interview(kb, w, session)
    try:
        _say(out, w("interview.welcome"))
        if "name" not in session.answers and "name" not in session.asked:
            name = prompts.ask(interview.question("name"), w)
            _answer(interview, out, "name", None if name is prompts.BACK else name)
        while True:
            _questionnaire(interview, w, out)
            change = prompts.review(interview.review(), w)
            if change is None:
                break
            value = prompts.ask(interview.question(change), w)
            if value is not prompts.BACK:
                _answer(interview, out, change, value)
        record = interview.finish()
        base = session.path.with_suffix("")
        json_path, md_path = base.with_name(base.name + ".result.json"), base.with_name(base.name + ".report.md")
        from ..render.markdown import assessment_markdown   # lazily: the renderers import much more
        from ..render.text import assessment_text
        write_atomic(json_path, to_json(record))
        write_atomic(md_path, assessment_markdown(record, w))
        _say(out, assessment_text(record, w))
        _say(out, w("interview.result", json=json_path, md=md_path))
        return 0
    except (KeyboardInterrupt, EOFError):
        print("\n" + w("interview.interrupted", n=len(session.answers), name=session.name), file=sys.stderr)
        return 130
    finally:
        session.close()


def _questionnaire(interview: Interview, w: Words, out) -> None:
    """Ask until no answer can change the outcome; « retour » takes the last answer back."""
    while (step := interview.next()) is not None:
        prefix = f"[{w('interview.progress', **step.progress)}] "
        if step.help:
            _say(out, f"  {step.help}", style="dim")
        if step.implied_by:
            value = w.answer(step.input, step.default, step.key)
            _say(out, "  " + w("interview.implied", value=value, rule=step.implied_by), style="dim")
        value = prompts.ask(step, w, prefix)
        if value is prompts.BACK:
            if interview.back() is None:
                _say(out, w("interview.first"))
            continue
        _answer(interview, out, step.key, value)


def _answer(interview: Interview, out, key: str, value) -> None:
    """The prompts only return valid values; should the machine still refuse one (a name
    too long, say), say why and let the question come again."""
    try:
        interview.answer(key, value)
    except ProfileError as exc:
        _say(out, exc.detail)


def _say(out, text: str, style: str | None = None) -> None:
    """Plain text: names and paths typed by people are never read as rich markup."""
    out.print(text, style=style, markup=False, highlight=False)
