"""The strict loader, fed deliberately broken knowledge: each error names file and key."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.errors import KnowledgeError
from knowledge.loader import KNOWLEDGE_DIR, load


@pytest.fixture()
def kdir(tmp_path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def fiche_file(kdir: Path, number: int) -> Path:
    return next((kdir / "fiches").glob(f"{number:02d}-*.yaml"))


def test_the_shipped_knowledge_loads(kdir):
    kb = load(kdir)
    assert sorted(kb.fiches) == list(range(1, 28))
    assert kb.version.startswith("kb-")


def test_unknown_key_names_file_and_key(kdir):
    path = fiche_file(kdir, 2)
    _edit(path, "axis: 1", "axis: 1\ncolour: blue")
    with pytest.raises(KnowledgeError) as err:
        load(kdir)
    assert "02-" in str(err.value) and "colour" in str(err.value) and "unknown key" in str(err.value)


def test_duplicate_key_is_refused(kdir):
    path = fiche_file(kdir, 2)
    _edit(path, "axis: 1", "axis: 1\naxis: 2")
    with pytest.raises(KnowledgeError, match="duplicate key 'axis'"):
        load(kdir)


def test_wrong_type_is_refused(kdir):
    path = fiche_file(kdir, 2)
    _edit(path, "total_da_ht: 850000", 'total_da_ht: "850000"')
    with pytest.raises(KnowledgeError) as err:
        load(kdir)
    assert "budget.by_size.TPE.total_da_ht" in str(err.value)


def test_unknown_fact_in_requires(kdir):
    path = fiche_file(kdir, 2)
    _edit(path, "requires: {machines_db: true}", "requires: {machine_db: true}")
    with pytest.raises(KnowledgeError) as err:
        load(kdir)
    assert "machine_db" in str(err.value) and "unknown profile fact" in str(err.value)


def test_unknown_recommendation_code(kdir):
    path = fiche_file(kdir, 2)
    _edit(path, "recommendations: tic_investment", "recommendations: tic_investments")
    with pytest.raises(KnowledgeError, match="tic_investments"):
        load(kdir)


def test_dangling_pair_reference(kdir):
    path = fiche_file(kdir, 2)
    _edit(path, "pair: {preparation: 1}", "pair: {preparation: 3}")
    with pytest.raises(KnowledgeError) as err:
        load(kdir)
    assert "pair" in str(err.value) and "not mirrored" in str(err.value)


def test_missing_fiche(kdir):
    fiche_file(kdir, 17).unlink()
    with pytest.raises(KnowledgeError, match=r"missing \[17\]"):
        load(kdir)


def test_file_name_must_match_number(kdir):
    path = fiche_file(kdir, 5)
    path.rename(path.with_name("06-wrong.yaml"))
    with pytest.raises(KnowledgeError, match="file name must start with the fiche number 05"):
        load(kdir)


def test_invalid_yaml(kdir):
    path = fiche_file(kdir, 3)
    path.write_text("fiche: 3\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="cannot be read as YAML"):
        load(kdir)


def test_cycle_is_named(kdir):
    # fiche 16 brings a network; make it need the server that fiche 18 brings, and 18 needs a network.
    path = fiche_file(kdir, 16)
    _edit(path, "requires: {uses_it: true}", "requires: {uses_it: true, local_server: true}")
    with pytest.raises(KnowledgeError) as err:
        load(kdir)
    assert "cycle" in str(err.value) and "fiche 16" in str(err.value) and "fiche 18" in str(err.value)


def test_version_changes_with_content(kdir):
    before = load(kdir).version
    _edit(fiche_file(kdir, 20), "total_da_ht: 135000", "total_da_ht: 135001")
    assert load(kdir).version != before


def test_investment_fiche_needs_a_budget(kdir):
    path = fiche_file(kdir, 21)
    text = path.read_text(encoding="utf-8")
    start = text.index("  by_size:")
    end = text.index("provides:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(KnowledgeError, match="investment fiche needs by_size or options"):
        load(kdir)
