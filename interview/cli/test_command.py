"""`pnman test PATH...` (contract §14): run scenario case files, one line a case, then
`N passed, N failed`. Exit 0 when all pass, 1 when one fails, 2 for a malformed file
(raised while the cases are read, before any runs). Like pytest's, its lines are English
and fixed: scripts read them."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .output import emit, to_json


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= 400 else text[:400] + "…"


def outcome_lines(outcome) -> list[str]:
    case = outcome.case
    named = case.file if Path(case.file).stem == case.name else f"{case.file}::{case.name}"
    lines = [f"{'PASS' if outcome.passed else 'FAIL'}  {named}"]
    for d in outcome.differences:
        lines.append(f"      expect.{d.key}: expected {_value(d.expected)}")
        lines.append(f"      {' ' * len('expect.' + d.key)}  found    {_value(d.found)}")
    return lines


def cmd_test(args) -> int:
    from pnman.engine.cases import load_cases, run_case
    from pnman.knowledge.editions import knowledge_for
    kb = knowledge_for(args.edition)
    outcomes = [run_case(case, kb) for case in load_cases(args.paths, kb)]
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    if args.format == "json":
        emit(to_json({"cases": [{"file": o.case.file, "name": o.case.name, "passed": o.passed,
                                 "differences": [{"key": d.key, "expected": d.expected, "found": d.found}
                                                 for d in o.differences]} for o in outcomes],
                      "passed": passed, "failed": failed}), None)
    else:
        lines = [line for o in outcomes for line in outcome_lines(o)]
        emit("\n".join(lines + [f"{passed} passed, {failed} failed"]) + "\n", None)
    return 1 if failed else 0
