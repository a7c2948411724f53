"""`pnman test PATH...` (contract §14): run scenario case files, one line a case, then
`N passed, N failed`. Exit 0 when all pass, 1 when one fails, 2 for a malformed file
(raised while the cases are read, before any runs).

Its words are the catalogues' (`cases.*`) in the language of `--lang`, else $PNMAN_LANG;
without either, English: the contract writes the summary line `N passed, N failed`, and
scripts read it (unlike the other commands, $LANG alone does not change it)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .output import emit, to_json

DEFAULT_LANGUAGE = "en"      # contract §14's own words


def cases_language(given: str | None, environ=None) -> str:
    """`--lang`, else $PNMAN_LANG when a catalogue exists for it, else English."""
    from pnman.knowledge.locales import available_languages
    if given:
        return given
    wanted = str((os.environ if environ is None else environ).get("PNMAN_LANG") or "").lower()
    return wanted if wanted in available_languages() else DEFAULT_LANGUAGE


def _value(value: Any, w) -> str:
    from pnman.engine.cases import Described
    if isinstance(value, Described):
        items = {} if value.items is None else {"items": _value(value.items, w)}
        return w(f"cases.described.{value.code}", **items)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= 400 else text[:400] + "…"


def outcome_lines(outcome, w) -> list[str]:
    """A case's line (its verdict and where it is), and each difference of a failing case
    under it: what the expectation wanted, and under it what was found, aligned."""
    case = outcome.case
    named = case.file if Path(case.file).stem == case.name else f"{case.file}::{case.name}"
    lines = [f"{w('cases.pass') if outcome.passed else w('cases.fail')}  {named}"]
    from rich.cells import cell_len       # columns a word takes (an Arabic shadda takes none)
    expected, found = w("cases.expected"), w("cases.found")
    width = max(cell_len(expected), cell_len(found))
    expected, found = (word + " " * (width - cell_len(word)) for word in (expected, found))
    for d in outcome.differences:
        lines.append(f"      expect.{d.key}: {expected} {_value(d.expected, w)}")
        lines.append(f"      {' ' * len('expect.' + d.key)}  {found} {_value(d.found, w)}")
    return lines


def summary_line(passed: int, failed: int, w) -> str:
    """`N passed, N failed` in the language of `w` (plural forms from the catalogue)."""
    return w("cases.summary", passed=w.count("cases.passed", passed), failed=w.count("cases.failed", failed))


def _json_value(value: Any, english) -> Any:
    """A difference's value in the JSON output: the value, or a description in English words."""
    from pnman.engine.cases import Described
    return _value(value, english) if isinstance(value, Described) else value


def cmd_test(args) -> int:
    from pnman.engine.cases import load_cases, run_case
    from pnman.knowledge.editions import knowledge_for

    from ..render.l10n import Words
    kb = knowledge_for(args.edition)
    outcomes = [run_case(case, kb) for case in load_cases(args.paths, kb)]
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    if args.format == "json":
        english = Words("en", kb)
        emit(to_json({"cases": [{"file": o.case.file, "name": o.case.name, "passed": o.passed,
                                 "differences": [{"key": d.key, "expected": _json_value(d.expected, english),
                                                  "found": _json_value(d.found, english)}
                                                 for d in o.differences]} for o in outcomes],
                      "passed": passed, "failed": failed}), None)
    else:
        w = Words(cases_language(getattr(args, "lang", None)), kb)
        lines = [line for o in outcomes for line in outcome_lines(o, w)]
        emit("\n".join(lines + [summary_line(passed, failed, w)]) + "\n", None)
    return 1 if failed else 0
