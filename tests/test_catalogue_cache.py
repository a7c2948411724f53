"""The parsed catalogues are kept (issue 23: YAML parsing was half of `pnman --help`), and
the cache can never give other words than the YAML file holds."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pnman.knowledge import locales

SOURCE = locales.LOCALES_DIR / "fr.yaml"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(locales.CACHE_VARIABLE, str(folder))
    return folder


def fresh(path: Path) -> dict:
    return locales._entries(path)


def test_a_second_read_comes_from_the_cache_and_equals_the_yaml(cache):
    first = fresh(SOURCE)
    kept = list(cache.glob("fr.*.marshal"))
    assert len(kept) == 1
    assert fresh(SOURCE) == first
    os.environ[locales.CACHE_VARIABLE] = "off"
    assert fresh(SOURCE) == first            # parsed from the YAML again: the same entries


def test_an_edited_catalogue_is_parsed_again_and_its_stale_cache_dropped(cache, tmp_path):
    copy = tmp_path / "fr.yaml"
    copy.write_bytes(SOURCE.read_bytes())
    before = fresh(copy)
    copy.write_text(SOURCE.read_text(encoding="utf-8") + "\nzz_added: « un mot de plus »\n", encoding="utf-8")
    after = fresh(copy)
    assert after["zz_added"] == "« un mot de plus »" and "zz_added" not in before
    assert len(list(cache.glob("fr.*.marshal"))) == 1


def test_a_damaged_cache_file_costs_only_the_parse(cache):
    expected = fresh(SOURCE)
    for kept in cache.glob("fr.*.marshal"):
        kept.write_bytes(b"\x00garbage")
    assert fresh(SOURCE) == expected
    (kept,) = cache.glob("fr.*.marshal")
    kept.write_bytes(b"")                    # truncated
    assert fresh(SOURCE) == expected


def test_an_unwritable_cache_folder_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(locales.CACHE_VARIABLE, str(blocker / "cache"))
    monkeypatch.setenv(locales.CACHE_VARIABLE, "off")
    expected = fresh(SOURCE)
    monkeypatch.setenv(locales.CACHE_VARIABLE, str(blocker / "cache"))
    assert fresh(SOURCE) == expected


def test_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(locales.CACHE_VARIABLE, "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    fresh(SOURCE)
    assert list(tmp_path.rglob("*.marshal")) == []


def test_with_a_warm_cache_help_does_not_load_yaml(cache):
    probe = ("import sys\nfrom pnman.interview.cli.main import main\ntry:\n    main(['--help'])\n"
             "except SystemExit:\n    pass\nprint('YAML', 'yaml' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           env={**os.environ, "PNMAN_LANG": "fr"}) for _ in range(2)]
    assert runs[0].stdout.rstrip().endswith("YAML True"), runs[0].stdout[-300:]    # cold: parsed
    assert runs[1].stdout.rstrip().endswith("YAML False"), runs[1].stdout[-300:]   # warm: not
    assert "utilisation : pnman" in runs[1].stdout
