"""`pnman --help` loads neither the knowledge nor the engine: a fresh interpreter answers it
without importing pydantic or a rules engine (the timing is in bench/bench.py; this
checks the cause). `pnman --version` names the knowledge and the rules engine, through
rules.engines: neither the knowledge's schema nor an engine's session."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Not YAML: the help is worded in the user's language, read from its catalogue.
HEAVY = ("pydantic", "pnman.knowledge.loader", "pnman.rules.evaluate", "durable", "clips", "networkx",
         "rich", "babel", "pnman.engine.facade")

PROBE = """
import sys
from pnman.interview.cli.main import main
try:
    main({argv!r})
except SystemExit:
    pass        # the command's exit status: what it loaded is printed below
print("\\nLOADED " + " ".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize("argv", [["--help"], ["assess", "--help"], ["batch", "--help"]])
def test_help_imports_nothing_heavy(argv):
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip(), done.stderr
    loaded = done.stdout.rsplit("LOADED", 1)[1].split()
    assert loaded == [], f"pnman {' '.join(argv)} imported {loaded}"
    assert "usage: pnman" in done.stdout


def test_version_loads_no_engine_session():
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=["--version"], heavy=HEAVY)],
                          capture_output=True, text=True, check=True)
    assert "pnman " in done.stdout and "engine " in done.stdout
    loaded = done.stdout.rsplit("LOADED", 1)[1].split()
    assert set(loaded) <= {"clips"}, f"pnman --version imported {loaded}"   # PNMAN_ENGINE=clips checks it imports


@pytest.mark.parametrize("engine", ["durable", "clips"])
def test_version_names_the_installed_engine_release(engine):
    from importlib import metadata

    from pnman.rules import engines
    if not engines.available(engine):
        pytest.skip(f"{engine} does not import on this Python")
    distribution = {"durable": "durable-rules", "clips": "clipspy"}[engine]
    assert metadata.version(distribution) in engines.describe(engine)


def test_a_command_still_loads_what_it_needs(tmp_path):
    probe = PROBE.format(argv=["fiches", "--format", "json"], heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "pnman.knowledge.loader" in done.stdout.rsplit("LOADED", 1)[1]


def test_a_run_without_record_loads_no_registry(tmp_path):
    """`pnman batch` (and assess) without --record keep nothing: the registry's modules (SQLite
    schema checks, chain, checkpoints, overrides, queries, the dashboard's index) stay unloaded."""
    source = tmp_path / "p.jsonl"
    source.write_text('{"employees": 12}\n', encoding="utf-8")
    heavy = ("pnman.records.chain", "pnman.records.registry", "pnman.records.append", "pnman.records.checkpoints",
             "pnman.records.schema", "sqlite3")
    for argv in (["batch", str(source), "-o", str(tmp_path / "out.jsonl")],
                 ["assess", str(ROOT / "examples" / "pme-industrielle.yaml"), "--format", "json"]):
        done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=heavy)],
                              capture_output=True, text=True, check=True)
        assert done.stdout.rsplit("LOADED", 1)[1].split() == [], (argv, done.stdout[-300:])
    with_record = ["batch", str(source), "-o", str(tmp_path / "rec.jsonl"), "--record", "--registry",
                   str(tmp_path / "r.sqlite3")]
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=with_record, heavy=heavy)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.rsplit("LOADED", 1)[1].split() == sorted(heavy)     # the probe sees them: with --record, loaded
