"""The layers as the folder names promise: knowledge → rules → engine → records → interview.

Imports go one way, never in a circle; durable-rules is behind one module; the engine
and the rules carry no language; no count of fiches is written in code.
"""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import networkx as nx
import pytest

from pnman.knowledge.locales import LOCALES_DIR, SOURCE_LANGUAGE, available_languages, catalogue, forms, is_plural

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("knowledge", "rules", "engine", "records", "interview")
ALLOWED = {"knowledge": set(), "rules": {"knowledge"}, "engine": {"knowledge", "rules"},
           "records": {"knowledge", "engine"}, "interview": {"knowledge", "rules", "engine", "records"}}


def _modules() -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The pnman modules a module imports (absolute or relative), at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            target = target.removeprefix("pnman.")   # installed, the layers are pnman's subpackages
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = nx.DiGraph((name, target) for name, path in MODULES.items() for target in _imports(name, path))


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_go_one_way(layer):
    wrong = sorted((a, b) for a, b in GRAPH.edges if a.split(".")[0] == layer
                   and b.split(".")[0] != layer and b.split(".")[0] not in ALLOWED[layer])
    assert wrong == []


def test_no_import_cycle_between_modules_or_folders():
    assert list(nx.simple_cycles(GRAPH)) == []
    folders = nx.DiGraph((a.rsplit(".", 1)[0] if a.count(".") > 1 else a.split(".")[0],
                          b.rsplit(".", 1)[0] if b.count(".") > 1 else b.split(".")[0]) for a, b in GRAPH.edges)
    folders.remove_edges_from(nx.selfloop_edges(folders))
    assert list(nx.simple_cycles(folders)) == []


@pytest.mark.parametrize("pattern, module", [(r"durable(\b|_rules_engine)", "rules.runtime"),
                                             (r"clips\b", "rules.clips_engine")])
def test_each_rules_engine_is_behind_one_module(pattern, module):
    users = sorted(name for name, path in MODULES.items() if re.search(rf"^\s*(from|import) {pattern}",
                                                                      path.read_text(encoding="utf-8"), re.M))
    assert users == [module]


def test_nothing_above_the_rules_layer_knows_which_engine_runs():
    """Which engine ran is the rules layer's business: above it, code reaches the rules
    through evaluate and compile only (the record just carries the engine's name), and
    `pnman --version` asks rules.engines for the engine's name and version, without loading
    the schema that rules.evaluate needs."""
    wrong = sorted((a, b) for a, b in GRAPH.edges if not a.startswith("rules")
                   and b.startswith("rules") and b not in ("rules.evaluate", "rules.compile", "rules.engines"))
    assert wrong == []


@pytest.mark.parametrize("layer", ["engine", "rules"])
def test_no_language_in_decisions(layer):
    """What `grep -rn lang engine rules` shows: nothing."""
    hits = [f"{path.name}:{n}" for path in (ROOT / layer).rglob("*.py")
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "lang" in line]
    assert hits == []


def test_no_count_of_fiches_or_fiche_number_in_code():
    hits = []
    for name, path in MODULES.items():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\b27\b|range\(1, 28\)|\bfiche\(1[03]\)|== 1[03]\b|\b5-250\b|specs_\{", code):
                hits.append(f"{name}:{n}: {line.strip()}")
    assert hits == []


# -- the catalogues -------------------------------------------------------------------------
def _placeholders(text) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(str(text)) if field}


def _entry_placeholders(value) -> set[str]:
    """All the placeholders of an entry (every form of a plural entry)."""
    return set().union(*(_placeholders(form) for form in forms(value)))


@pytest.mark.parametrize("lang", [code for code in available_languages() if code != SOURCE_LANGUAGE])
def test_every_catalogue_has_every_french_key_with_the_same_placeholders(lang):
    """A plain entry has the French placeholders; a plural entry's forms each use some of
    them (Arabic's « one » may leave the figure out) and all of them together."""
    french, other = catalogue(SOURCE_LANGUAGE), catalogue(lang)
    assert sorted(french.keys - other.keys) == []
    # fiche_titles: our short titles translated; the French ones are the fiche files' short_title
    # interpretations: the knowledge's French notes translated (the French is in the knowledge)
    assert sorted(k for k in other.keys - french.keys if not k.startswith(("fiche_titles.", "interpretations."))) == []
    different = [k for k in french.keys if _entry_placeholders(french.raw(k)) != _entry_placeholders(other.raw(k))]
    assert different == []
    wider = [k for k in french.keys if is_plural(other.raw(k))
             and any(not _placeholders(form) <= _entry_placeholders(french.raw(k)) for form in forms(other.raw(k)))]
    assert wider == []


@pytest.mark.parametrize("lang", available_languages())
def test_a_plural_entry_has_a_count_to_choose_its_form(lang):
    """A plural entry is chosen by {count} (or {n}): the French entry must have one, so the
    code passes it — or {days}, a {list} (the count is its length) or a {range}/{high} (a noun
    after a range agrees with its end, which the code passes as count); its categories
    are CLDR's for the language (Babel)."""
    from babel import Locale
    words, french = catalogue(lang), catalogue(SOURCE_LANGUAGE)
    plural = [k for k in words.keys if is_plural(words.raw(k))]
    counted = {"count", "n", "list", "range", "high", "days"}
    assert [k for k in plural if not counted & _entry_placeholders(french.raw(k))] == []
    categories = set(Locale.parse(words.locale).plural_form.tags) | {"other"}
    assert [k for k in plural if not set(words.raw(k)) <= categories] == []


def test_every_code_the_engine_emits_has_wording():
    french = catalogue(SOURCE_LANGUAGE)
    codes = {m.group(1) for path in (ROOT / "engine").rglob("*.py")
             for m in re.finditer(r'PlanWarning\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))}
    assert codes and not [c for c in codes if not (french.has(f"warnings.{c}") or french.has(f"findings.{c}"))]
    checks = {m.group(1) for m in re.finditer(r'"check": "([a-z_]+)"', (ROOT / "engine/validate.py").read_text())}
    assert checks and not [c for c in checks if not french.has(f"validate.checks.{c}")]


def test_every_fact_question_goal_and_choice_has_wording(kb):
    for lang in available_languages():
        words = catalogue(lang)
        missing = [f"facts.{k}.label" for k in kb.facts if not words.has(f"facts.{k}.label")]
        missing += [f"questions.{k}.text" for k in kb.questions if not words.has(f"questions.{k}.text")]
        missing += [f"goals.{g}" for g in kb.guide.goals if not words.has(f"goals.{g}")]
        missing += [f"choices.recommendations.{c}" for c in kb.facts["recommendations"].choices
                    if not words.has(f"choices.recommendations.{c}")]
        missing += [f"facts.{k}.unchangeable" for k, spec in kb.facts.items()
                    if spec.unchangeable and not words.has(f"facts.{k}.unchangeable")]
        assert missing == [], lang


def test_lang_choices_come_from_the_catalogues():
    from pnman.interview.cli.main import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    langs = next(a for a in sub.choices["assess"]._actions if a.dest == "lang")
    assert tuple(langs.choices) == available_languages() == tuple(
        sorted(sorted(p.stem for p in LOCALES_DIR.glob("*.yaml")), key=lambda c: c != SOURCE_LANGUAGE))


@pytest.mark.parametrize("lang", [code for code in available_languages() if code != SOURCE_LANGUAGE])
def test_a_translation_titles_every_fiche(lang, kb):
    """Every fiche has a short title in each translation (`fiche_titles.N`), for a fiche of
    the knowledge: the French short title (the fiche file's) never shows in another language."""
    words = catalogue(lang)
    titled = {int(k.split(".")[1]) for k in words.keys if k.startswith("fiche_titles.")}
    assert titled == set(kb.fiches)
