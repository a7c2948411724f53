"""`pnman interview`: the guided questionnaire in a terminal, or headless.

A thin face over machine.Interview: it shows each step with questionary, hands the
answer back, and writes the result beside the session. Which question comes next, what
is offered as a default and what is accepted are the machine's business.

At the end: the record (`<session>.result.json`) and the answers as a profile
(`<session>.profile.yaml`, for `pnman assess`) beside the session, and the report a
manager reads, written where `-o` says or where the interview offers (HTML unless
`--format` or the file's extension says otherwise).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from pnman.knowledge.errors import InputError, Phrase, ProfileError

from ..files import console, is_stdout, to_json, write_atomic
from ..render.l10n import Words
from ..render.reports import render_report
from . import prompts
from .machine import Interview
from .session import PROFILE, RESULT, peek, profile_text
from .session import exists as session_exists
from .session import open_session

EXTENSIONS = {"html": ".html", "markdown": ".md", "text": ".txt", "json": ".json"}
BY_EXTENSION = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown",
                ".txt": "text", ".json": "json"}


def run_interview(args) -> int:
    """The CLI entry point: headless with --answers/--transcript, else interactive."""
    from pnman.knowledge.editions import knowledge_for
    kb = knowledge_for(getattr(args, "edition", None))     # --edition; default: the latest in force
    from ..recording import record_store
    store = record_store(args)      # --record: the result appended to the registry at the end
    if args.answers or args.transcript:
        return _headless(args, kb, store)
    if not sys.stdin.isatty():
        raise InputError(Phrase("session.no_terminal"))
    return interactive(kb, session_name=args.session, resume=args.resume, lang=args.lang,
                       fmt=getattr(args, "format", None), output=getattr(args, "output", None), store=store)


def report_format(fmt: str | None, path: str | os.PathLike | None) -> str:
    """--format when given, else what the file's extension says, else HTML."""
    if fmt:
        return fmt
    return BY_EXTENSION.get(Path(str(path or "")).suffix.lower(), "html")


def _check_output(output: str | None) -> None:
    """Refuse at once, not after the last question, a report file that cannot be written."""
    if not output or is_stdout(output):
        return
    path = Path(output).expanduser()
    if path.is_dir():
        raise InputError(Phrase("write.directory"), file=output)
    if not path.parent.is_dir():
        raise InputError(Phrase("write.no_folder"), file=output)


def write_report(record: dict, w: Words, fmt: str | None, output: str) -> tuple[str, str]:
    """Write the report atomically (or print it for -o -); returns (format, where)."""
    fmt = report_format(fmt, output)
    content = render_report(record, w, fmt)
    if is_stdout(output):
        sys.stdout.write(content)
        sys.stdout.flush()
        return fmt, "-"
    path = Path(output).expanduser()
    write_atomic(path, content)
    return fmt, str(path.resolve())


def _headless(args, kb, store=None) -> int:
    if not (args.answers and args.transcript):
        raise InputError(Phrase("session.headless"))
    from pnman.knowledge.profile import load_profile

    from .headless import run_headless
    words = Words(args.lang, kb)
    output, fmt = getattr(args, "output", None), getattr(args, "format", None)
    _check_output(output)
    profile = load_profile(args.answers, kb)
    transcript = run_headless(profile, kb, words)
    if store is not None:
        from ..recording import save
        transcript["result"] = save(store, transcript["result"], words)
    write_atomic(args.transcript, to_json(transcript))
    print(words("interview.transcript", count=len(transcript["asked"]), path=args.transcript), file=sys.stderr)
    if output:
        fmt, where = write_report(transcript["result"], words, fmt, output)
        if where != "-":
            print(words("interview.report_written", format=fmt, path=where), file=sys.stderr)
    return 0


def interactive(kb, *, session_name: str, resume: bool, lang: str, fmt: str | None = None,
                output: str | None = None, store=None) -> int:
    """Name, questions (with « retour »), review, result, report; Ctrl-C keeps every answer given.

    Started without --resume over a saved session, it asks whether to resume it or start
    afresh; afresh keeps the old one as another session and says which."""
    w = Words(lang, kb)
    out = console()
    _check_output(output)
    if not resume and session_exists(session_name):
        resume = prompts.resume_or_restart(session_name, peek(session_name), w)
    session = open_session(session_name, kb, resume=resume, lang=lang)
    name = session.path.stem
    if session.previous is not None:
        _say(out, w("interview.previous_kept", path=session.previous, name=session.previous.stem))
    interview = Interview(kb, w, session, require_request=True)
    try:
        _say(out, w("interview.welcome"))
        if "name" not in session.answers and "name" not in session.asked:
            company = prompts.ask(interview.question("name"), w)
            _answer(interview, out, "name", None if company is prompts.BACK else company)
        while True:
            _questionnaire(interview, w, out)
            change = prompts.review(interview.review(), w)
            if change is None:
                break
            value = prompts.ask(interview.question(change), w)
            if value is prompts.BY_FICHES:
                value = _fiches_instead(interview, w, out)
            if value is not prompts.BACK:
                _answer(interview, out, change, value)
        record = interview.finish()
        if store is not None:       # --record: the record as the registry keeps it (its entry id on stderr)
            from ..recording import save
            record = save(store, record, w)
        result, profile = session.sibling(RESULT), session.sibling(PROFILE)
        write_atomic(result, to_json(record))
        write_atomic(profile, profile_text(session.answers, session.asked,
                                           w("interview.profile_header", session=name, path=profile)))
        from ..render.text import assessment_text   # lazily: the renderers import much more
        _say(out, assessment_text(record, w))
        _say(out, w("interview.result", result=result, profile=profile))
        _report(record, w, out, fmt, output, name, profile)
        return 0
    except (KeyboardInterrupt, EOFError):
        print("\n" + w("interview.interrupted", n=len(session.answers), name=name), file=sys.stderr)
        return 130
    finally:
        session.close()


def _report(record: dict, w: Words, out, fmt: str | None, output: str | None, name: str, profile) -> None:
    """Write the report where -o says; else offer a file (Enter accepts, an empty field
    writes none). A file that cannot be written is said, and another one asked for."""
    offered = w("interview.report_file", session=name) + EXTENSIONS[fmt or "html"]
    path = output or prompts.report_path(offered, w)
    while True:
        if not path:
            _say(out, w("interview.report_skipped", profile=profile, format=fmt or "html", file=offered))
            return
        try:
            written, where = write_report(record, w, fmt, path)
        except InputError as exc:
            _say(out, exc.render(w.cat))
            path = prompts.report_path(path, w)
            continue
        if where != "-":
            _say(out, w("interview.report_written", format=written, path=where))
        return


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
        if value is prompts.BY_FICHES:
            value = _fiches_instead(interview, w, out, prefix)
            if value is prompts.BACK:
                continue        # the goals again
        if value is prompts.BACK:
            if interview.back() is None:
                _say(out, w("interview.first"))
            continue
        _answer(interview, out, step.key, value)


def _fiches_instead(interview: Interview, w: Words, out, prefix: str = ""):
    """« No goal: the diagnostic names fiches »: the fiches first (at least one), then no
    goal. Returns the goals' answer ([]), or BACK to tick goals after all."""
    value = prompts.ask(interview.question("fiches"), w, prefix)
    if value is prompts.BACK or value is None:
        return prompts.BACK
    _answer(interview, out, "fiches", value)
    return [] if interview.state.answers.get("fiches") else prompts.BACK


def _answer(interview: Interview, out, key: str, value) -> None:
    """The prompts only return valid values; should the machine still refuse one (a name
    too long, say), say why and let the question come again."""
    try:
        interview.answer(key, value)
    except ProfileError as exc:
        _say(out, exc.detail_in(interview.words.cat))


def _say(out, text: str, style: str | None = None) -> None:
    """Plain text: names and paths typed by people are never read as rich markup."""
    out.print(text, style=style, markup=False, highlight=False)
