"""One function per `pnman` subcommand: read inputs, call the engine, render."""
from __future__ import annotations

import sys

from engine import knowledge as knowledge_mod
from engine.errors import PnmanError

from . import render
from .output import emit, to_json


def _kb():
    return knowledge_mod.default()


def _assess_profile(source: str, lang: str = "fr"):
    from engine.assess import assess
    from engine.profile import load_profile
    kb = _kb()
    profile = load_profile(source, kb)
    return kb, assess(profile, kb, lang=lang)


def cmd_fiches(args) -> int:
    kb = _kb()
    from engine.export import fiche_export, knowledge_export
    if args.format == "json":
        data = fiche_export(kb, args.number, args.size) if args.number else knowledge_export(kb, args.size)
        emit(to_json(data), None)
    elif args.number:
        emit(render.fiche_text(kb, args.number, args.size), None)
    else:
        emit(render.fiches_list_text(kb), None)
    return 0


def cmd_validate(args) -> int:
    from engine.errors import KnowledgeError
    from engine.validate import validate
    try:
        kb = _kb()
    except KnowledgeError as exc:
        print(f"pnman validate: the knowledge base is broken: {exc}", file=sys.stderr)
        return 1
    report = validate(kb, args.guide)
    if args.format == "json":
        emit(to_json({"ok": report.ok, "checks": [{"check": c, "result": r} for c, r in report.checks],
                      "errors": report.errors, "guide_findings": [f.as_dict() for f in report.findings],
                      "interpretations": [{"id": i, "text": t} for i, t in report.interpretations]}), None)
        return 0 if report.ok else 1
    lines = ["Vérifications de la base de connaissances"]
    lines += [f"  ✔ {check} : {result}" for check, result in report.checks]
    if report.errors:
        lines.append(f"Erreurs ({len(report.errors)})")
        lines += [f"  ✘ {e}" for e in report.errors]
    lines.append(f"Ce que le guide dit de contradictoire ou d’incomplet ({len(report.findings)})")
    lines += [f"  • [{f.code}] {f.message}" for f in report.findings]
    lines.append(f"Interprétations ({len(report.interpretations)})")
    lines += [f"  • {i} : {t}" for i, t in report.interpretations]
    emit("\n".join(lines) + "\n", None)
    return 0 if report.ok else 1


def cmd_assess(args) -> int:
    kb, result = _assess_profile(args.profile, args.lang)
    if args.format == "json":
        content = to_json(result)
    elif args.format == "markdown":
        content = render.assessment_markdown(result, kb, args.lang)
    elif args.format == "html":
        from .report_html import assessment_html
        content = assessment_html(result, kb, args.lang)
    else:
        content = render.assessment_text(result, kb, args.lang)
    emit(content, args.output)
    return 0


def cmd_check(args) -> int:
    from engine.assess import build_result, reason
    from engine.evaluate import evaluate
    from engine.planner import build_plan
    from engine.profile import load_profile
    kb = _kb()
    evaluation = evaluate(load_profile(args.profile, kb), kb)
    if args.format == "json":
        status = evaluation.statuses[args.fiche]
        emit(to_json({"fiche": args.fiche, "title": kb.fiche(args.fiche).title, "status": status.status,
                      "rule": status.rule, "size_class": evaluation.size_class,
                      "conditions": [reason(c) for c in status.conditions],
                      "unknown_facts": list(status.unknown_facts),
                      "intents": [c.as_dict() for c in kb.intents[args.fiche]]}), None)
    else:
        result = build_result(evaluation, build_plan(evaluation, kb, args.lang), kb, lang=args.lang)
        emit(render.check_text(result, args.fiche, kb, args.lang), None)
    return 0


def cmd_graph(args) -> int:
    from engine import graph
    kb = _kb()
    if args.profile:
        from engine.evaluate import evaluate
        from engine.planner import build_plan
        from engine.profile import load_profile
        profile = load_profile(args.profile, kb)
        plan = build_plan(evaluate(profile, kb), kb)
        g, ranks = graph.plan_graph(list(plan.steps))
        title = f"Plan PNMAN – {profile.get('name') or 'entreprise'}"
    else:
        g, ranks = graph.knowledge_graph(kb), None
        title = "PNMAN guide n°4 – dépendances"
    if args.format == "mermaid":
        content = graph.to_mermaid(g)
    else:
        content = graph.to_dot(g, title, ranks)
        if args.format in ("svg", "png"):
            if args.format == "png" and not args.output:
                raise PnmanError("--format png writes binary data: give an output file with -o")
            content = graph.render_with_graphviz(content, args.format)
    emit(content, args.output)
    return 0


def cmd_explain(args) -> int:
    from engine.audit import read_result
    from engine.explain import explain
    kb = _kb()
    result = read_result(args.result)
    explanation = explain(result, args.fiche, kb, lang=args.lang)
    if args.format == "json":
        emit(to_json(explanation), None)
    else:
        from .render_explain import explanation_text
        emit(explanation_text(explanation, args.lang), None)
    return 0


def cmd_audit(args) -> int:
    from engine.audit import audit, read_result
    kb = _kb()
    result = read_result(args.result)
    report = audit(result, kb)
    if args.format == "json":
        emit(to_json(report), None)
    else:
        from .render_explain import audit_text
        emit(audit_text(report), None)
    return 0 if report["match"] else 1


def cmd_interview(args) -> int:
    from .session_cli import run_interview
    return run_interview(args)


def cmd_batch(args) -> int:
    from .batch import run_batch
    return run_batch(args)
