"""The loaded knowledge kept between processes (knowledge/snapshot.py) is the knowledge the
YAML gives: the same records, never a stale one after an edit of a file or of the code."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pnman.engine.facade import assess
from pnman.engine.record import canonical_bytes
from pnman.knowledge import loader, snapshot
from pnman.knowledge.cachefiles import CACHE_VARIABLE
from pnman.knowledge.profile import check_profile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_VARIABLE, str(folder))
    return folder


class CountingLoad:
    def __init__(self):
        self.calls = 0

    def __call__(self, directory):
        self.calls += 1
        return loader.load(directory)


def records(kb) -> list[bytes]:
    from pnman.knowledge.yamlio import read_knowledge_file
    out = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        profile = check_profile(read_knowledge_file(path), kb)
        out.append(canonical_bytes(assess(profile, kb).record(timestamp="t")))
    return out


def test_a_kept_knowledge_decides_as_the_yaml_does(cache):
    load = CountingLoad()
    fresh = snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    kept = snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    assert load.calls == 1 and len(list(cache.glob("knowledge-*.pickle"))) == 1
    assert kept is not fresh and kept.version == fresh.version
    assert [f.model_dump() for f in kept.fiches.values()] == [f.model_dump() for f in fresh.fiches.values()]
    assert kept.conditions == fresh.conditions and kept.graph.edges == fresh.graph.edges
    assert kept.guide == fresh.guide and kept.facts == fresh.facts and kept.questions == fresh.questions
    assert records(kept) == records(fresh) == records(loader.load())


def knowledge_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(loader.KNOWLEDGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py", "locales"))
    return copy


def test_an_edited_fiche_is_loaded_again_and_its_stale_snapshot_dropped(cache, tmp_path):
    copy = knowledge_copy(tmp_path)
    load = CountingLoad()
    before = snapshot.load_kept(copy, load, loader.Knowledge)
    (fiche,) = copy.glob("fiches/01-*.yaml")
    text = fiche.read_text(encoding="utf-8")
    title = before.fiches[1].title
    assert title in text
    fiche.write_text(text.replace(title, title + " (révisée)", 1), encoding="utf-8")
    after = snapshot.load_kept(copy, load, loader.Knowledge)
    assert load.calls == 2 and after.fiches[1].title == title + " (révisée)"
    assert after.version != before.version
    assert len(list(cache.glob("knowledge-*.pickle"))) == 1       # the stale one dropped
    snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    assert len(list(cache.glob("knowledge-*.pickle"))) == 2       # another folder's kept beside it
    assert snapshot.load_kept(copy, load, loader.Knowledge).fiches[1].title == title + " (révisée)"
    assert load.calls == 3


def test_other_code_or_another_folder_is_another_snapshot(tmp_path, monkeypatch):
    copy = knowledge_copy(tmp_path)
    name = snapshot.snapshot_name(copy.resolve())
    assert snapshot.snapshot_name(loader.KNOWLEDGE_DIR) != name       # the folder is in the key
    code = tmp_path / "code"
    code.mkdir()
    for source in snapshot.CODE.glob("*.py"):
        shutil.copy(source, code / source.name)
    monkeypatch.setattr(snapshot, "CODE", code)
    assert snapshot.snapshot_name(copy.resolve()) == name
    with open(code / "conditions.py", "a", encoding="utf-8") as out:
        out.write("\n# a change of the code that derives the conditions\n")
    assert snapshot.snapshot_name(copy.resolve()) != name


@pytest.mark.parametrize("damage", [b"", b"\x80\x05garbage", b"not a pickle at all"])
def test_a_damaged_snapshot_costs_only_the_load(cache, damage):
    snapshot.load_kept(loader.KNOWLEDGE_DIR, loader.load, loader.Knowledge)
    (kept,) = cache.glob("knowledge-*.pickle")
    kept.write_bytes(damage)
    load = CountingLoad()
    kb = snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    assert load.calls == 1 and records(kb) == records(loader.load())
    again = snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)      # the file rewritten
    assert again.version == kb.version and load.calls == 1


def test_off_writes_nothing_and_still_loads(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_VARIABLE, "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load = CountingLoad()
    snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    assert load.calls == 2 and list(tmp_path.rglob("*.pickle")) == []


def test_a_broken_knowledge_is_still_refused(cache, tmp_path):
    from pnman.knowledge.errors import KnowledgeError
    copy = knowledge_copy(tmp_path)
    (copy / "facts.yaml").write_text("not: [a, valid\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        snapshot.load_kept(copy, loader.load, loader.Knowledge)
    (copy / "facts.yaml").unlink()
    with pytest.raises(KnowledgeError, match="missing"):
        snapshot.load_kept(copy, loader.load, loader.Knowledge)
    assert list(cache.glob("*.pickle")) == []


PROBE = """
import sys
from pnman.interview.cli.main import main
try:
    main(["batch", {source!r}, "-o", {out!r}])
except SystemExit:
    pass        # the command's exit status: what it loaded is printed below
print("\\nYAML", "yaml" in sys.modules, "pydantic" in sys.modules)
"""


def test_with_warm_caches_a_csv_batch_reads_no_yaml(cache, tmp_path):
    """Neither the YAML parser nor pydantic is even imported when the knowledge and the
    catalogues are kept: the cause of a batch's shorter start-up (its timing: bench/bench.py)."""
    source = tmp_path / "p.csv"
    source.write_text("name,employees,industrial\nA,12,true\n", encoding="utf-8")
    probe = PROBE.format(source=str(source), out=str(tmp_path / "out.jsonl"))
    env = {**os.environ, "PNMAN_LANG": "fr"}
    runs = []
    for _ in range(2):
        (tmp_path / "out.jsonl").unlink(missing_ok=True)
        runs.append(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120))
    assert runs[0].stdout.rstrip().endswith("YAML True True"), runs[0].stdout[-300:] + runs[0].stderr[-2000:]
    assert runs[1].stdout.rstrip().endswith("YAML False False"), runs[1].stdout[-300:] + runs[1].stderr[-2000:]
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_a_snapshot_holding_something_else_costs_only_the_load(cache):
    import pickle
    snapshot.load_kept(loader.KNOWLEDGE_DIR, loader.load, loader.Knowledge)
    (kept,) = cache.glob("knowledge-*.pickle")
    kept.write_bytes(pickle.dumps({"not": "a knowledge"}))
    load = CountingLoad()
    kb = snapshot.load_kept(loader.KNOWLEDGE_DIR, load, loader.Knowledge)
    assert load.calls == 1 and isinstance(kb, loader.Knowledge)


def test_a_file_edited_while_it_is_read_leaves_no_snapshot(cache, tmp_path):
    copy = knowledge_copy(tmp_path)
    (fiche,) = copy.glob("fiches/01-*.yaml")

    def load_while_edited(directory):
        kb = loader.load(directory)
        fiche.write_text(fiche.read_text(encoding="utf-8") + "\n# edited meanwhile\n", encoding="utf-8")
        return kb
    snapshot.load_kept(copy, load_while_edited, loader.Knowledge)
    assert list(cache.glob("knowledge-*.pickle")) == []
    load = CountingLoad()
    snapshot.load_kept(copy, load, loader.Knowledge)
    snapshot.load_kept(copy, load, loader.Knowledge)
    assert load.calls == 1
