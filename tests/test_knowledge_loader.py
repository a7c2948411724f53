"""The strict loader, fed deliberately broken knowledge: each error names file and key."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pnman.knowledge.errors import KnowledgeError
from pnman.knowledge.loader import KNOWLEDGE_DIR, load


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


# -- guide.yaml, facts.yaml, questions.yaml: as strict as the fiches ------------------------
BROKEN_FILES = [
    # (file, old, new, what the message must name)
    ("guide.yaml", "  gpao: {fiche: 2, preparation: 1}", "  gpao: {fiche: 2, preparaton: 1}", ["guide.yaml", "goals.gpao.preparaton", "unknown key"]),
    ("guide.yaml", "  gpao: {fiche: 2, preparation: 1}", "  gpao: {fiche: 29, preparation: 1}", ["guide.yaml", "goals.gpao.fiche", "29"]),
    ("guide.yaml", "    then: {it_infrastructure: false}", "    then: {it_infrastructur: false}", ["guide.yaml", "implications.implies.no_it.no_infrastructure.then", "it_infrastructur"]),
    ("guide.yaml", "    - {code: PE, min: 10, max: 49,", "    - {code: PE, min: \"10\", max: 49,", ["guide.yaml", "size_classes.classes.1.min"]),
    ("guide.yaml", "general_conditions:\n  text:", "general_condition:\n  text:", ["guide.yaml", "general_condition"]),
    ("guide.yaml", "  local_network: [13, 16]", "  local_network: [13, 18]", ["guide.yaml", "provider_preference.local_network", "fiche 18"]),
    ("facts.yaml", "it_manager: {type: bool, role: prerequisite}", "it_manager: {type: boolean, role: prerequisite}", ["facts.yaml", "it_manager.type"]),
    ("facts.yaml", "it_manager: {type: bool, role: prerequisite}", "it_manager: {type: bool, role: prerequisite, colour: red}", ["facts.yaml", "it_manager.colour", "unknown key"]),
    ("facts.yaml", "it_manager: {type: bool, role: prerequisite}\n", "", ["it_manager"]),
    ("questions.yaml", "it_manager: {kind: bool}", "it_manager: {kind: yesno}", ["questions.yaml", "it_manager.kind"]),
    ("questions.yaml", "it_manager: {kind: bool}\n", "", ["questions.yaml", "it_manager", "no question"]),
    ("questions.yaml", "it_manager: {kind: bool}", "it_manager: {kind: bool}\nit_manger: {kind: bool}", ["questions.yaml", "it_manger", "unknown profile fact"]),
    ("questions.yaml", "pnman_member: {kind: bool, priority: 10}", "pnman_member: {kind: bool, priority: first}", ["questions.yaml", "pnman_member.priority"]),
]


@pytest.mark.parametrize("name,old,new,needles", BROKEN_FILES, ids=[f"{b[0]}:{b[3][-1]}" for b in BROKEN_FILES])
def test_every_knowledge_file_is_checked_and_named(kdir, name, old, new, needles):
    _edit(kdir / name, old, new)
    with pytest.raises(KnowledgeError) as err:
        load(kdir)
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))


@pytest.mark.parametrize("name", ["guide.yaml", "facts.yaml", "questions.yaml"])
def test_a_missing_or_empty_knowledge_file_is_named(kdir, name):
    (kdir / name).write_text("[]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=f"{name}: top level must be a mapping"):
        load(kdir)
    (kdir / name).unlink()
    with pytest.raises(KnowledgeError, match=f"{name}: knowledge file is missing"):
        load(kdir)


def test_a_broken_knowledge_file_exits_2_naming_it(kdir, tmp_path):
    import os
    import subprocess
    import sys
    _edit(kdir / "facts.yaml", "it_manager: {type: bool, role: prerequisite}", "it_manager: {type: boolean, role: prerequisite}")
    profile = tmp_path / "p.yaml"
    profile.write_text("employees: 12\n", encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "pnman", "assess", str(profile)], capture_output=True, text=True,
                          cwd=root, env=dict(os.environ, PNMAN_KNOWLEDGE=str(kdir)), timeout=120)
    assert done.returncode == 2, done.stderr
    assert "facts.yaml" in done.stderr and "it_manager.type" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_a_catalogue_without_a_key_is_named(kdir):
    from pnman.interview.render.l10n import Words
    _edit(kdir / "locales" / "en.yaml", "  eligible: eligible\n", "")
    kb = load(kdir)
    with pytest.raises(KnowledgeError) as err:
        Words("en", kb).status("eligible")
    assert "en.yaml" in str(err.value) and "status.eligible" in str(err.value)


def test_special_cases_are_data(kdir):
    """Fiche 9 around fiche 10 and fiche 13's scope are data: edit the data, the behaviour follows."""
    import re

    from pnman.engine.facade import assess
    from pnman.engine.explain import what_would_it_take
    erp = {"employees": 20, "pnman_member": True, "diagnostic_approved": True, "general_conditions": True,
           "recommendations": ["erp", "tic_investment"], "goals": ["erp"], "uses_it": True, "management_rules": True,
           "management_software": True, "top_management_involved": True, "erp_consultant": True,
           "specs_erp": True, "it_infrastructure": True, "project_manager_erp": True}
    start = dict(erp, goals=["start_it"], recommendations=["tic_investment"], it_manager=True, minimal_it_skills=True)
    kb = load(kdir)
    assert [(s.fiche, s.part) for s in assess(erp, kb).plan.steps] == [(9, "preparation"), (10, None), (9, "post_erp")]
    assert what_would_it_take(start, 13, kb)["impossible"][0]["fact"] == "uses_it"
    path = fiche_file(kdir, 9)
    path.write_text(re.sub(r"\nstraddles:\n(  .*\n)+", "\n", path.read_text(encoding="utf-8")), encoding="utf-8")
    _edit(path, "  post_erp_days:\n", "  post_erp_days_gone:\n")
    with pytest.raises(KnowledgeError, match="09-.*budget.post_erp_days_gone"):
        load(kdir)
    path.write_text(re.sub(r"\n  post_erp_days_gone:\n(    .*\n)+", "\n", path.read_text(encoding="utf-8")), encoding="utf-8")
    _edit(fiche_file(kdir, 13), "    excludes: true\n", "")
    kb = load(kdir)
    assert [(s.fiche, s.part) for s in assess(erp, kb).plan.steps] == [(9, None), (10, None)]
    take = what_would_it_take(start, 13, kb)
    assert take["impossible"] == [] and take["options"][0][0]["fact"] == "uses_it"
