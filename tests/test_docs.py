"""The documentation in the repository stands on its own and cannot drift from the knowledge."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _generator():
    spec = importlib.util.spec_from_file_location("make_profile", ROOT / "docs" / "make_profile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_profile_page_is_what_its_generator_writes():
    generated = _generator().render()
    committed = (ROOT / "docs" / "profile.md").read_text(encoding="utf-8")
    assert committed == generated, "docs/profile.md is out of date: run .venv/bin/python docs/make_profile.py"


def test_profile_page_lists_every_key_with_its_labels(kb):
    from pnman.knowledge.locales import catalogue
    page = (ROOT / "docs" / "profile.md").read_text(encoding="utf-8")
    keys = page[page.index("## Keys"):]
    keys = keys[:keys.index("\n## ", 5)]
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z_]+)`.*$", keys, re.M)}
    for key in kb.facts:
        assert key in rows, key
        for lang in ("fr", "en"):
            assert catalogue(lang).text(f"facts.{key}.label") in rows[key], (key, lang)
    assert "## Unknown is not false" in page


def test_the_page_lists_exactly_the_yes_no_words_every_input_takes():
    from pnman.knowledge.profile import NO_WORDS, YES_WORDS
    page = (ROOT / "docs" / "profile.md").read_text(encoding="utf-8")
    section = page[page.index("## Yes/no answers"):page.index("## Lists")]
    for word in YES_WORDS + NO_WORDS:
        assert f"`{word}`" in section, word
    assert {"on", "oui", "vrai", "1"} <= set(YES_WORDS) and {"off", "non", "faux", "0"} <= set(NO_WORDS)


def test_readme_points_inside_the_repository():
    assert "shared/contract.md" not in README
    for link in re.findall(r"\]\(([^)#]+)", README):
        if not link.startswith(("http://", "https://")):
            assert (ROOT / link).exists(), link
    assert "docs/profile.md" in README


def test_readme_says_what_graphviz_is_for_and_which_words_are_yes_and_no():
    assert "Graphviz" in README and "--format svg" in README and "mermaid" in README
    section = README[README.index("Graphviz") - 400:README.index("Graphviz") + 600]
    assert "HTML" in section
    for word in ("true", "false", "yes", "no", "on", "off", "oui"):
        assert f"`{word}`" in README, word


def test_the_cases_page_documents_every_expectation_and_its_examples_pass(tmp_path, kb):
    """docs/cases.md: one row per expectation key `pnman test` knows, and every example case
    on the page (a ```yaml block with an `expect`) passes."""
    import shutil

    from pnman.engine.cases import EXPECTATIONS, load_cases, run_case
    page = (ROOT / "docs" / "cases.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", page[page.index("## Expectations"):], re.M))
    assert rows == set(EXPECTATIONS)
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", page, re.S) if "expect:" in b]
    assert len(blocks) >= 3
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "cases").mkdir()
    for index, block in enumerate(blocks):
        (tmp_path / "cases" / f"example{index}.yaml").write_text(block, encoding="utf-8")
    cases = load_cases([tmp_path / "cases"], kb)
    assert len(cases) == len(blocks) + 1        # one file holds two cases
    for case in cases:
        outcome = run_case(case, kb)
        assert outcome.passed, (case.name, outcome.differences)
