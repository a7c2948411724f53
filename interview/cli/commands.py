"""One function per `pnman` subcommand: read inputs, call the engine, localise, render."""
from __future__ import annotations

import sys

from pnman.knowledge import default as default_kb
from pnman.knowledge.errors import InputError, Phrase, PnmanError

from ..render.l10n import Words, localise
from .output import emit, to_json
from .registry_commands import cmd_keys, cmd_override, cmd_registry, record_store, save  # noqa: F401 (pnman registry, keys, override)


def _words(args) -> Words:
    """The language's words over the knowledge of the guide edition the command names
    (--edition), else the latest edition in force."""
    from pnman.knowledge.editions import knowledge_for
    return Words(getattr(args, "lang", None) or "fr", knowledge_for(getattr(args, "edition", None)))


def _fiche(words: Words, number: int | None) -> int | None:
    """A fiche number the guide has, or exit 2 naming the range."""
    if number is not None and number not in words.kb.fiches:
        raise InputError(Phrase("cli.fiche_range", count=len(words.kb.fiches), found=number), key="--fiche")
    return number


def _assess_file(source: str, words: Words):
    from pnman.engine.facade import assess
    from pnman.knowledge.profile import load_profile
    return assess(load_profile(source, words.kb), words.kb)


def cmd_fiches(args) -> int:
    from pnman.knowledge.export import fiche_export, knowledge_export

    from ..render.text import fiche_text, fiches_list_text
    w = _words(args)
    number = _fiche(w, args.number)
    from ..render.editions import edition_text
    if args.format == "json":
        emit(to_json(fiche_export(w.kb, number, args.size) if number else knowledge_export(w.kb, args.size)), None)
    elif number:
        emit(fiche_text(w.kb, number, w, args.size) + edition_text(w.kb, w, number, args.size), None)
    else:
        emit(fiches_list_text(w.kb, w) + edition_text(w.kb, w, None, args.size), None)
    return 0


# The figures of validate's checks that count something, and the noun each counts.
COUNTED_FIGURES = {"fiches": "counts.fiches", "conditions": "counts.conditions", "tests": "counts.fact_tests",
                   "edges": "counts.edges"}


def _check_words(check: dict, w: Words) -> str:
    """One check of validate in words, each count with its noun in the right form."""
    figures = {k: w.count(COUNTED_FIGURES[k], v) if k in COUNTED_FIGURES and isinstance(v, int) else v
               for k, v in check["figures"].items()}
    return w(f"validate.checks.{check['check']}", **figures)


def cmd_validate(args) -> int:
    from pnman.engine.validate import validate
    from pnman.knowledge.errors import KnowledgeError
    from ..render.editions import validate_json, validate_lines
    try:
        w = Words(args.lang, default_kb())      # the printed guide: every edition is checked on it
    except KnowledgeError as exc:
        from pnman.knowledge.locales import catalogue
        cat = catalogue(getattr(args, "messages", None) or "en")
        print("pnman validate: " + cat.text("errors.tools.broken", problem=exc.render(cat)), file=sys.stderr)
        return 1
    report = validate(w.kb, args.guide)
    findings = [f.as_dict() for f in report.findings]
    if args.format == "json":
        emit(to_json({"ok": report.ok,
                      "checks": [dict(c, result=_check_words(c, w)) for c in report.checks],
                      "errors": [w("validate.error", **e) for e in report.errors],
                      "guide_findings": [dict(f, message=w.finding(f)) for f in findings],
                      "interpretations": [{"id": i, "text": t} for i, t in report.interpretations],
                      "editions": validate_json(report.editions, w)}), None)
        return 0 if report.ok else 1
    lines = [w("validate.heading")]
    lines += ["  ✔ " + _check_words(c, w) for c in report.checks]
    if report.errors:
        lines.append(w("validate.errors", count=len(report.errors)))
        lines += [f"  ✘ {w('validate.error', **e)}" for e in report.errors]
    lines.append(w("validate.findings", count=len(findings)))
    lines += [f"  • [{f['code']}] {w.finding(f)}" for f in findings]
    lines.append(w("validate.interpretations", count=len(report.interpretations)))
    lines += [f"  • {i} : {w.interpretation(t)}" for i, t in report.interpretations]
    lines += validate_lines(report.editions, w)
    emit("\n".join(lines) + "\n", None)
    return 0 if report.ok else 1


def _pdf_ready(output: str | None) -> None:
    """--format pdf: a file to write (not a terminal) and WeasyPrint, checked before any work."""
    from ..files import is_stdout
    from ..render.pdf import weasyprint
    if (not output or is_stdout(output)) and sys.stdout is not None and sys.stdout.isatty():
        raise PnmanError(Phrase("write.binary", format="pdf"))
    weasyprint()


def cmd_assess(args) -> int:
    if args.format == "pdf":
        _pdf_ready(args.output)
    w = _words(args)
    record = localise(_assess_file(args.profile, w).record(), w)
    record = save(record_store(args), record, w)      # --record: the record as the registry keeps it
    from ..render.reports import render_report
    emit(render_report(record, w, args.format, verbose=getattr(args, "verbose", False)), args.output)
    return 0


def cmd_check(args) -> int:
    from pnman.engine.record import reason
    w = _words(args)
    fiche = _fiche(w, args.fiche)
    assessment = _assess_file(args.profile, w)
    if args.format == "json":
        status = assessment.evaluation.statuses[fiche]
        emit(to_json({"fiche": fiche, "title": w.kb.fiche(fiche).title, "status": status.status,
                      "rule": status.rule, "size_class": assessment.evaluation.size_class,
                      "conditions": [reason(c, assessment.evaluation) for c in status.conditions],
                      "unknown_facts": list(status.unknown_facts),
                      "intents": [c.as_dict() for c in w.kb.intents[fiche]]}), None)
    else:
        from ..render.text import check_text
        emit(check_text(localise(assessment.record(), w), fiche, w, verbose=getattr(args, "verbose", False)), None)
    return 0


def cmd_graph(args) -> int:
    from ..render import graph
    w = _words(args)
    if args.profile:
        assessment = _assess_file(args.profile, w)
        record = localise(assessment.record(), w)
        g, ranks = graph.plan_graph(record["plan"], w)
        title = w("graph.plan_title", name=assessment.profile.get("name") or w("graph.company"))
    else:
        g, ranks = graph.labelled_knowledge_graph(w.kb, w), None
        title = w("graph.guide_title")
    if args.format == "mermaid":
        content = graph.to_mermaid(g)
    else:
        content = graph.to_dot(g, title, ranks)
        if args.format in ("svg", "png"):
            if args.format == "png" and not args.output:
                raise PnmanError(Phrase("write.binary", format="png"))
            content = graph.render_with_graphviz(content, args.format)
    emit(content, args.output)
    return 0


def cmd_explain(args) -> int:
    from pnman.engine.audit import read_result
    from pnman.engine.explain import explain

    from ..render.explain import explanation_text, localise_explanation
    w = _words(args)
    fiche = _fiche(w, args.fiche)
    explanation = localise_explanation(explain(read_result(args.result), fiche, w.kb), w)
    emit(to_json(explanation) if args.format == "json" else explanation_text(explanation, w), None)
    return 0


def cmd_audit(args) -> int:
    from pnman.engine.audit import audit, read_result

    from ..render.explain import audit_text
    w = _words(args)
    report = audit(read_result(args.result), w.kb)
    emit(to_json(report) if args.format == "json" else audit_text(report, w), None)
    return 0 if report["match"] else 1


def cmd_interview(args) -> int:
    from ..questionnaire.terminal import run_interview
    return run_interview(args)


def cmd_batch(args) -> int:
    from .batch import run_batch
    return run_batch(args)


def cmd_impact(args) -> int:
    from .impact_command import cmd_impact as impact
    return impact(args)


def cmd_serve(args) -> int:
    from .serve_command import cmd_serve as serve
    return serve(args)


def cmd_test(args) -> int:
    from .test_command import cmd_test as test
    return test(args)


def cmd_users(args) -> int:
    from .users_command import cmd_users as users
    return users(args)
