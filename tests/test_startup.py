"""`pnman --help` loads neither the knowledge nor the engine: a fresh interpreter answers it
without importing pydantic or a rules engine (the timing is in bench/bench.py; this
checks the cause). `pnman --version` names the knowledge and the rules engine, through
rules.engines: neither the knowledge's schema nor an engine's session."""
from __future__ import annotations

import subprocess
import sys

import pytest

# Not YAML: the help is worded in the user's language, read from its catalogue.
HEAVY = ("pydantic", "pnman.knowledge.loader", "pnman.rules.evaluate", "durable", "clips", "networkx",
         "rich", "babel", "pnman.engine.facade")

PROBE = """
import sys
from pnman.interview.cli.main import main
try:
    main({argv!r})
except SystemExit:
    pass
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
