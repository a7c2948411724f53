"""Reading never writes (issue 21): a registry of schema 1 is read as it is by `registry list`,
`show`, `verify` and `export` — on read-only storage too (0444 file in a 0555 folder, read by
a user who cannot write there) — and migrated only by a command that appends. Triggers that
were dropped are reported by `verify` before the migration and after it (the migration
makes them again, but writes down which it found gone)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import record_of, run
from registry_files import schema_1_registry
from pnman.records import schema
from pnman.records.registry import Registry
from pnman.records.schema import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PROFILES = [{"employees": 12 + n, "goals": ["network"], "name": f"Entreprise {n}"} for n in range(4)]


def _version(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_a_schema_1_registry_leaves_it_as_it_is_and_an_append_migrates_it(tmp_path, kb, capsys):
    path = tmp_path / "old.sqlite3"
    rows = schema_1_registry(path, kb)
    before = _digest(path)
    entry = rows[1][1]
    for argv in (("registry", "list"), ("registry", "show", entry), ("registry", "verify"),
                 ("registry", "export", "-o", str(tmp_path / "out.jsonl"))):
        code, out, err = run(capsys, *argv, "--registry", str(path))
        assert code == 0, (argv, err)
        assert _version(path) == 1 and _digest(path) == before, argv
    exported = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [e["hash"] for e in exported] == [r[6] for r in rows]
    with Registry.open(path, create=False) as registry:
        assert registry.verify().ok and registry.count() == 3
        assert registry.show(entry).as_dict()["source"] is None
        assert _version(path) == 1
        registry.append_assessment(record_of(PROFILES[3], kb, lang="fr"), source={"portfolio": "sha256:" + "a" * 64,
                                                                                    "row": 1})
        assert _version(path) == schema.SCHEMA_VERSION
        report = registry.verify()
        assert report.ok and report.entries == 4, report.as_dict()
        assert registry.source_entry({"portfolio": "sha256:" + "a" * 64, "row": 1}) is not None
    conn = sqlite3.connect(path)
    assert [r[:12] for r in conn.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall()[:3]] == \
        [r[:12] for r in rows]
    conn.close()


def test_a_reader_opened_before_a_migration_reads_the_migrated_file(tmp_path, kb):
    path = tmp_path / "old.sqlite3"
    schema_1_registry(path, kb)
    reader = Registry.open(path, create=False)
    writer = Registry.open(path, create=False)
    try:
        assert reader.count() == 3
        writer.append_assessment(record_of(PROFILES[3], kb, lang="fr"), source={"portfolio": "sha256:" + "b" * 64,
                                                                                  "row": 2})
        assert reader.source_entry({"portfolio": "sha256:" + "b" * 64, "row": 2}) == writer.list()[0].id
        assert reader.verify().ok and reader.count() == 4
    finally:
        reader.close()
        writer.close()


def _without_override() -> list[str]:
    """What runs a command so that file permissions hold for it: nothing for a user, and for
    root, setpriv taking away the capabilities that pass over them (0444 then means read-only)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("root ignores file permissions, and setpriv (util-linux) is not there to stop it")
    caps = "-dac_override,-dac_read_search,-fowner"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]


def test_a_schema_1_registry_on_read_only_storage_is_read(tmp_path, kb):
    """0444 file in a 0555 folder: every reading command answers and nothing is written; a
    command that appends is refused (exit 2, naming the file) and leaves it as it was."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "registry.sqlite3"
    rows = schema_1_registry(path, kb)
    before = _digest(path)
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    prefix = _without_override()
    try:
        for argv in (["registry", "list"], ["registry", "show", rows[0][1]], ["registry", "verify"],
                     ["registry", "export", "-o", str(tmp_path / "export.jsonl")], ["registry", "list", "--summary"]):
            proc = subprocess.run([*prefix, sys.executable, "-m", "pnman", *argv, "--registry", str(path),
                                   "--lang", "en"], cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, (argv, proc.stderr)
            assert "Traceback" not in proc.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["registry.sqlite3"]
        assert _digest(path) == before and _version(path) == 1
        assert len((tmp_path / "export.jsonl").read_text().splitlines()) == 3
        proc = subprocess.run([*prefix, sys.executable, "-m", "pnman", "assess",
                               str(ROOT / "examples" / "tpe-demarrage.yaml"), "--record", "--registry", str(path),
                               "--lang", "en"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and str(path) in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert _digest(path) == before and _version(path) == 1
    finally:
        os.chmod(folder, 0o755)
        os.chmod(path, 0o644)


def test_dropped_triggers_of_a_schema_1_registry_are_reported_before_and_after_its_migration(tmp_path, kb, capsys):
    path = tmp_path / "old.sqlite3"
    schema_1_registry(path, kb, triggers=False)
    code, out, _ = run(capsys, "registry", "verify", "--registry", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and sorted(report["triggers_missing"]) == sorted(schema.TRIGGERS)
    assert report["first_broken"] is None and _version(path) == 1
    code, _, err = run(capsys, "assess", str(ROOT / "examples" / "tpe-demarrage.yaml"), "--record",
                       "--registry", str(path))
    assert code == 0, err
    assert _version(path) == schema.SCHEMA_VERSION
    conn = sqlite3.connect(path)          # the migration made them again: they hold from now on
    assert {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")} >= set(schema.TRIGGERS)
    conn.close()
    code, out, _ = run(capsys, "registry", "verify", "--registry", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and sorted(report["triggers_missing"]) == sorted(schema.TRIGGERS)
    assert report["first_broken"] is None and report["checked"] == 4


def test_a_schema_1_registry_with_its_triggers_migrates_and_verifies(tmp_path, kb, capsys):
    path = tmp_path / "old.sqlite3"
    schema_1_registry(path, kb)
    code, _, err = run(capsys, "assess", str(ROOT / "examples" / "tpe-demarrage.yaml"), "--record",
                       "--registry", str(path))
    assert code == 0, err
    code, out, _ = run(capsys, "registry", "verify", "--registry", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["triggers_missing"] == [] and report["entries"] == 4
