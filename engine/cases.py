"""Scenario cases (contract §14): a profile and what the guide says it must give, as data.

A case file is YAML: one case (a mapping) or a list of them. A case names its profile
(`profile`, on top of a named `base` from `_bases.yaml` beside the file, or a profile
file `profile_file`) and its expectations (`expect`). Every key is checked before any
case runs: an unknown or misspelled key is an error naming the file, the case and the
key, never silently ignored (a case that cannot fail is a defect). Running a case gives
its differences as values; the faces word them. docs/cases.md documents the format.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.profile import check_profile, read_document
from pnman.rules.evaluate import STATUSES

from .facade import assess
from .steps import step_label

BASES_FILE = "_bases.yaml"
CASE_KEYS = ("name", "description", "base", "profile", "profile_file", "expect")


@dataclass(frozen=True)
class Case:
    file: str                       # the case file, as given
    name: str
    profile: Mapping[str, Any]      # checked
    expect: Mapping[str, Any]       # checked
    description: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}: case '{self.name}'"


@dataclass(frozen=True)
class Described:
    """What an expectation wanted, or a case found, when it is said of the record rather than
    a value of it (« including ["f13"] », « no such step »): a code the faces word from the
    catalogues (`cases.described.<code>`), with the items it is about."""
    code: str           # including | none_of | a_step | a_planned_step | no_such_step | no_such_warning | unknown
    items: Any = None


@dataclass(frozen=True)
class Difference:
    """One expectation that does not hold: where in `expect`, what it wanted, what was found."""
    key: str
    expected: Any
    found: Any


@dataclass(frozen=True)
class Outcome:
    case: Case
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return not self.differences


# -- reading ---------------------------------------------------------------------------------
def case_files(paths) -> list[Path]:
    """The case files named, folders walked (sorted); files whose name starts with `_`
    (the bases) are not cases."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.suffix in (".yaml", ".yml")
                         and p.is_file() and not p.name.startswith("_"))
        elif path.exists():
            found.append(path)
        else:
            raise InputError(Phrase("cases.no_such"), file=str(given))
    return found


def load_cases(paths, kb: Knowledge) -> list[Case]:
    """Every case of the files and folders given, checked; InputError (exit 2) on the
    first malformed one."""
    cases: list[Case] = []
    bases: dict[Path, dict] = {}
    for path in case_files(paths):
        data = read_document(str(path), what="case_file")
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items):
            default = path.stem if not isinstance(data, list) else f"{path.stem}[{index}]"
            cases.append(_case(item, str(path), default, _bases(path.parent, bases), kb))
    names = [(c.file, c.name) for c in cases]
    for file, name in names:
        if names.count((file, name)) > 1:
            raise InputError(Phrase("cases.twice", name=name), file=file)
    return cases


def _bases(folder: Path, cache: dict[Path, dict]) -> dict:
    if folder not in cache:
        path = folder / BASES_FILE
        data = read_document(str(path), what="case_file") if path.exists() else {}
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise InputError(Phrase("cases.bases"), file=str(path))
        cache[folder] = data
    return cache[folder]


def _unknown(key: str, known, what: str, where: str, prefix: str = "") -> InputError:
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    hint = Phrase("did_you_mean_column", close=close[0]) if close else Phrase("cases.one_of", known=", ".join(known))
    return InputError(Phrase(f"cases.unknown_{what}", found=f"{prefix}{key}", hint=hint), file=where)


def _case(item: Any, file: str, default: str, bases: dict, kb: Knowledge) -> Case:
    if not isinstance(item, dict):
        raise InputError(Phrase("cases.not_mapping", case=default, found=type(item).__name__), file=file)
    name = item.get("name", default)
    if not isinstance(name, str) or not name:
        raise InputError(Phrase("cases.name", case=default), file=file)
    where = Phrase("case_shape.where", file=file, case=name)
    for key in item:
        if key not in CASE_KEYS:
            raise _unknown(key, CASE_KEYS, "case_key", where)
    profile: dict = {}
    if item.get("base") is not None:
        if item["base"] not in bases:
            raise InputError(Phrase("cases.unknown_base", base=item["base"], bases=", ".join(bases) or "—",
                                    file=BASES_FILE), file=where)
        profile.update(bases[item["base"]])
    if item.get("profile_file") is not None:
        source = Path(file).parent / str(item["profile_file"])
        profile.update(read_document(str(source), what="profile"))
    given = item.get("profile") or {}
    if not isinstance(given, dict):
        raise InputError(Phrase("cases.profile"), file=where)
    profile.update(given)
    checked = check_profile(profile, kb, file=where)
    expect = item.get("expect")
    if not isinstance(expect, dict) or not expect:
        raise InputError(Phrase("cases.expect"), file=where)
    for key, value in expect.items():
        if key not in EXPECTATIONS:
            raise _unknown(key, EXPECTATIONS, "expectation_key", where, "expect.")
        try:
            EXPECTATIONS[key][0](value, f"expect.{key}", kb)
        except InputError as exc:           # a shape error names its path in `expect`: add the case
            raise InputError(exc.phrase or exc.detail, file=where) from None
    description = item.get("description") or ""
    return Case(file, name, checked, dict(expect), str(description))


# -- the shapes an expectation takes ---------------------------------------------------------
def _fail(where: str, wanted: Phrase, value: Any) -> InputError:
    return InputError(Phrase("case_shape.shape", where=where, expected=wanted, found=repr(value)[:200]))


def _fiche(number: Any, where: str, kb: Knowledge) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or number not in kb.fiches:
        raise _fail(where, Phrase("case_shape.fiche", count=len(kb.fiches)), number)


def _mapping(value, where, kb, key, item) -> None:
    if not isinstance(value, dict) or not value:
        raise _fail(where, Phrase("case_shape.mapping"), value)
    for k, v in value.items():
        key(k, f"{where}.{k}", kb)
        item(v, f"{where}.{k}", kb)


def _strings(value, where, kb=None) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, Phrase("case_shape.names"), value)


def _status(value, where, kb=None) -> None:
    if value not in STATUSES:
        raise _fail(where, Phrase("case_shape.one_of", allowed=", ".join(STATUSES)), value)


def _fact(value, where, kb) -> None:
    if value not in kb.facts:
        raise _fail(where, Phrase("case_shape.fact"), value)


def _facts(value, where, kb) -> None:
    _strings(value, where)
    for fact in value:
        _fact(fact, where, kb)


def _anything(value, where, kb=None) -> None:
    return None


def _fields(value, where, kb=None) -> None:
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
        raise _fail(where, Phrase("case_shape.fields"), value)


def _step_or_fiche(key, where, kb) -> None:
    if not isinstance(key, str):
        _fiche(key, where, kb)


def _size(value, where, kb) -> None:
    if value is not None and value not in [c.code for c in kb.size_classes]:
        raise _fail(where, Phrase("case_shape.size"), value)


def _ints(value, where, kb) -> None:
    if not isinstance(value, list):
        raise _fail(where, Phrase("case_shape.fiches"), value)
    for number in value:
        _fiche(number, where, kb)


def _figures_by_code(value, where, kb) -> None:
    _mapping(value, where, kb, lambda k, w, kb: _strings([k], w), _fields)


# -- what an expectation checks ------------------------------------------------------------
Checker = Callable[[Any, dict, Knowledge], list[Difference]]


def _by_fiche(record: dict) -> dict[int, dict]:
    return {e["fiche"]: e for e in record["fiches"]}


def _labels(record: dict) -> list[str]:
    return [step_label(s) for s in record["plan"]]


def _step(record: dict, label: str) -> dict | None:
    return next((s for s in record["plan"] if step_label(s) == label), None)


def _check_size(expected, record, kb):
    return [] if record["size_class"] == expected else [Difference("size_class", expected, record["size_class"])]


def _check_statuses(expected, record, kb):
    fiches = _by_fiche(record)
    return [Difference(f"statuses.{n}", s, fiches[n]["status"]) for n, s in expected.items()
            if fiches[n]["status"] != s]


def _check_all_statuses(expected, record, kb):
    other = {e["fiche"]: e["status"] for e in record["fiches"] if e["status"] != expected}
    return [Difference("all_statuses", expected, other)] if other else []


def _subset(key: str, expected: list, found: list) -> list[Difference]:
    missing = [x for x in expected if x not in found]
    return [Difference(key, Described("including", missing), found)] if missing else []


def _check_reasons(expected, record, kb):
    fiches = _by_fiche(record)
    out = []
    for number, conditions in expected.items():
        out += _subset(f"reasons.{number}", conditions, [r["condition"] for r in fiches[number]["reasons"]])
    return out


def _check_unknown_facts(expected, record, kb):
    fiches = _by_fiche(record)
    out = []
    for number, facts in expected.items():
        out += _subset(f"unknown_facts.{number}", facts, fiches[number]["unknown_facts"])
    return out


def _check_plan(expected, record, kb):
    labels = _labels(record)
    return [] if labels == expected else [Difference("plan", expected, labels)]


def _check_present(expected, record, kb):
    return _subset("present", expected, _labels(record))


def _check_absent(expected, record, kb):
    labels = _labels(record)
    there = [x for x in expected if x in labels]
    return [Difference("absent", Described("none_of", there), labels)] if there else []


def _check_order(expected, record, kb):
    labels = _labels(record)
    kept = [x for x in labels if x in expected]
    return [] if kept == list(expected) else [Difference("order", expected, kept or labels)]


def _check_needed_by(expected, record, kb):
    out = []
    for action, needers in expected.items():
        step = _step(record, action)
        found = step.get("needed_by") if step else None
        if found != needers:
            out.append(Difference(f"needed_by.{action}", needers, found if step else Described("no_such_step")))
    return out


def _check_steps(expected, record, kb):
    out = []
    for label, fields in expected.items():
        step = _step(record, label)
        if step is None:
            out.append(Difference(f"steps.{label}", Described("a_step"), _labels(record)))
            continue
        for key, value in fields.items():
            if key == "because":        # the ids listed are among the step's
                out += _subset(f"steps.{label}.because", value, step["because"])
            elif step.get(key) != value:
                out.append(Difference(f"steps.{label}.{key}", value, step.get(key)))
    return out


def _check_budgets(expected, record, kb):
    out = []
    for which, budget in expected.items():
        step = _step(record, which) if isinstance(which, str) else next(
            (s for s in record["plan"] if s["kind"] == "fiche" and s["fiche"] == which), None)
        if step is None:
            out.append(Difference(f"budgets.{which}", Described("a_planned_step"), _labels(record)))
            continue
        for key, value in budget.items():
            if step["budget"].get(key) != value:
                out.append(Difference(f"budgets.{which}.{key}", value, step["budget"].get(key)))
    return out


def _check_totals(expected, record, kb):
    return [Difference(f"totals.{k}", v, record["totals"].get(k)) for k, v in expected.items()
            if record["totals"].get(k) != v]


def _codes(record: dict) -> list[str]:
    return list(dict.fromkeys(w["code"] for w in record["warnings"]))


def _check_warnings(expected, record, kb):
    return _subset("warnings", expected, _codes(record))


def _check_no_warnings(expected, record, kb):
    there = [c for c in expected if c in _codes(record)]
    return [Difference("no_warnings", Described("none_of", there), _codes(record))] if there else []


def _check_warning_figures(expected, record, kb):
    out = []
    for number, by_code in expected.items():
        for code, wanted in by_code.items():
            found = [w.get("figures") or {} for w in record["warnings"] if w["code"] == code and w["fiche"] == number]
            if not any(all(f.get(k) == v for k, v in wanted.items()) for f in found):
                out.append(Difference(f"warning_figures.{number}.{code}", wanted, found or Described("no_such_warning")))
    return out


def _check_facts(expected, record, kb):
    out = []
    for fact, value in expected.items():
        found = record["facts"].get(fact, {}).get("value")
        if fact not in record["facts"] or found != value:
            out.append(Difference(f"facts.{fact}", value, found if fact in record["facts"] else Described("unknown")))
    return out


def _check_absent_facts(expected, record, kb):
    there = {f: record["facts"][f]["value"] for f in expected if f in record["facts"]}
    return [Difference("absent_facts", Described("unknown"), there)] if there else []


# name -> (shape check, checker); docs/cases.md lists them in this order.
EXPECTATIONS: dict[str, tuple[Callable, Checker]] = {
    "size_class": (_size, _check_size),
    "statuses": (lambda v, w, kb: _mapping(v, w, kb, _fiche, _status), _check_statuses),
    "all_statuses": (_status, _check_all_statuses),
    "reasons": (lambda v, w, kb: _mapping(v, w, kb, _fiche, _strings), _check_reasons),
    "unknown_facts": (lambda v, w, kb: _mapping(v, w, kb, _fiche, _facts), _check_unknown_facts),
    "plan": (_strings, _check_plan),
    "present": (_strings, _check_present),
    "absent": (_strings, _check_absent),
    "order": (_strings, _check_order),
    "needed_by": (lambda v, w, kb: _mapping(v, w, kb, _strings_key, _ints), _check_needed_by),
    "steps": (lambda v, w, kb: _mapping(v, w, kb, _strings_key, _fields), _check_steps),
    "budgets": (lambda v, w, kb: _mapping(v, w, kb, _step_or_fiche, _fields), _check_budgets),
    "totals": (_fields, _check_totals),
    "warnings": (_strings, _check_warnings),
    "no_warnings": (_strings, _check_no_warnings),
    "warning_figures": (lambda v, w, kb: _mapping(v, w, kb, _fiche, _figures_by_code), _check_warning_figures),
    "facts": (lambda v, w, kb: _mapping(v, w, kb, _fact, _anything), _check_facts),
    "absent_facts": (_facts, _check_absent_facts),
}


def _strings_key(key, where, kb=None) -> None:
    if not isinstance(key, str):
        raise _fail(where, Phrase("case_shape.step"), key)


# -- running ---------------------------------------------------------------------------------
def run_case(case: Case, kb: Knowledge) -> Outcome:
    """Assess the case's profile and compare with every expectation."""
    record = assess(case.profile, kb).record(timestamp="case")
    differences: list[Difference] = []
    for key, expected in case.expect.items():
        for found in EXPECTATIONS[key][1](expected, record, kb):
            differences.append(found)
    return Outcome(case, tuple(differences))
