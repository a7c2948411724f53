"""Scenario cases written as data (tests/cases/*.yaml), run by the code `pnman test` runs:
each case is one pytest test, failing with the differences `pnman test` prints."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import one_clean_line, run
from pnman import knowledge
from pnman.engine.cases import EXPECTATIONS, load_cases, run_case
from pnman.interview.cli.test_command import outcome_lines
from pnman.interview.render.l10n import Words

CASES = Path(__file__).parent / "cases"
ALL = load_cases([CASES], knowledge.default())


def test_there_are_enough_cases():
    assert len(ALL) >= 25


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_case(case, kb):
    outcome = run_case(case, kb)
    assert outcome.passed, "\n".join(outcome_lines(outcome, Words("en", kb)))


def test_every_expectation_key_is_used_by_a_project_case():
    used = {key for case in ALL for key in case.expect}
    assert used == set(EXPECTATIONS), set(EXPECTATIONS) - used


# -- pnman test --------------------------------------------------------------------------------
def _write(folder: Path, name: str, text: str) -> Path:
    (folder / "_bases.yaml").write_text((CASES / "_bases.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


NETWORK = """\
description: a PE using IT asks for a local network
base: member_pe_it
profile: {goals: [network], local_network: false}
"""


def test_pnman_test_runs_the_project_cases(capsys):
    code, out, err = run(capsys, "test", str(CASES))
    lines = out.strip().splitlines()
    assert code == 0, out
    assert lines[-1] == f"{len(ALL)} passed, 0 failed"
    assert len(lines) == len(ALL) + 1 and all(line.startswith("PASS  ") for line in lines[:-1])


def test_a_misspelled_expectation_is_exit_2_naming_file_case_and_key(capsys, tmp_path):
    path = _write(tmp_path, "net.yaml", NETWORK + "expect:\n  statusses: {16: eligible}\n")
    code, out, err = run(capsys, "test", str(tmp_path))
    assert code == 2 and out == ""
    assert one_clean_line(err)
    assert str(path) in err and "case 'net'" in err and "statusses" in err and "did you mean 'statuses'" in err


@pytest.mark.parametrize("body, words", [
    ("expect:\n  statuses: {16: elegible}\n", "expect.statuses.16: expected one of eligible"),
    ("expect:\n  statuses: {99: eligible}\n", "expect.statuses.99: expected a fiche number"),
    ("expect:\n  facts: {local_netwrk: true}\n", "expect.facts.local_netwrk: expected a profile key"),
    ("expect: {}\n", "'expect' must be a mapping of expectations"),
    ("expect:\n  plan: f16\n", "expect.plan: expected a list of names"),
    ("expect:\n  plan: [f16]\nexpected: {}\n", "unknown case key 'expected'"),
    ("base: nobody\nexpect:\n  plan: [f16]\n", "unknown base 'nobody'"),
    ("profile: {goals: [netwrk]}\nexpect:\n  plan: [f16]\n", "goals"),
])
def test_a_malformed_case_is_exit_2(capsys, tmp_path, body, words):
    text = NETWORK.replace("base: member_pe_it\n", "") if body.startswith("base:") else NETWORK
    if body.startswith("profile:"):
        text = text.replace("profile: {goals: [network], local_network: false}\n", "")
    _write(tmp_path, "net.yaml", text + body)
    code, out, err = run(capsys, "test", str(tmp_path / "net.yaml"))
    assert code == 2 and one_clean_line(err), err
    assert words in err and "net.yaml" in err


def test_a_failing_case_is_exit_1_with_the_difference(capsys, tmp_path):
    _write(tmp_path, "net.yaml", NETWORK + "expect:\n  plan: [f15, f16]\n  statuses: {16: eligible}\n")
    _write(tmp_path, "more.yaml", """\
- name: network totals
  base: member_pe_it
  profile: {goals: [network], local_network: false}
  expect: {totals: {investment_da_ht: {min: 1, max: 1}}}
- name: size
  base: member_pe_it
  profile: {goals: [network]}
  expect: {size_class: PE, absent: [f13], present: [f16]}
""")
    code, out, err = run(capsys, "test", str(tmp_path))
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[-1] == "1 passed, 2 failed"
    assert f"FAIL  {tmp_path / 'more.yaml'}::network totals" in lines
    assert f"PASS  {tmp_path / 'more.yaml'}::size" in lines
    assert f"FAIL  {tmp_path / 'net.yaml'}" in lines
    assert any(line.strip() == 'expect.plan: expected ["f15", "f16"]' for line in lines)
    assert any(line.strip() == 'found    ["f16"]' for line in lines)
    assert f"PASS  {tmp_path / 'net.yaml'}" not in lines


def test_json_output_lists_every_difference(capsys, tmp_path):
    import json
    _write(tmp_path, "net.yaml", NETWORK + "expect:\n  present: [f13]\n  absent: [f16]\n  order: [f16]\n")
    code, out, err = run(capsys, "test", "--format", "json", str(tmp_path))
    data = json.loads(out)
    assert code == 1 and data["failed"] == 1 and data["passed"] == 0
    assert [d["key"] for d in data["cases"][0]["differences"]] == ["present", "absent"]


def test_a_missing_path_is_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, "test", str(tmp_path / "none.yaml"))
    assert code == 2 and one_clean_line(err) and "none.yaml" in err


# -- pnman test in the user's language ---------------------------------------------------------
FAILING = NETWORK + "expect:\n  plan: [f15, f16]\n  absent: [f16]\n  steps: {f99: {part: null}}\n"
ENGLISH_WORDS = ("PASS", "FAIL", "passed", "failed", "expected", "found", "including", "none of", "a step", "unknown")


@pytest.mark.parametrize("lang, verdict, expected, found, summary, none_of", [
    ("fr", "ÉCHEC", "attendu", "trouvé", "1 réussi, 1 échoué", 'aucun de ["f16"]'),
    ("ar", "فاشلة", "المتوقَّع", "الموجود", "حالة واحدة ناجحة، حالة واحدة فاشلة", 'لا شيء من ["f16"]'),
    ("en", "FAIL", "expected", "found", "1 passed, 1 failed", 'none of ["f16"]'),
])
def test_pnman_test_speaks_the_language_asked(capsys, tmp_path, lang, verdict, expected, found, summary, none_of):
    _write(tmp_path, "net.yaml", FAILING)
    _write(tmp_path, "size.yaml", "base: member_pe_it\nprofile: {goals: [network]}\nexpect: {size_class: PE}\n")
    code, out, err = run(capsys, "test", "--lang", lang, str(tmp_path))
    lines = out.splitlines()
    assert code == 1, err
    assert lines[0] == f"{verdict}  {tmp_path / 'net.yaml'}" and lines[-1] == summary
    assert any(line.strip() == f'expect.plan: {expected} ["f15", "f16"]' for line in lines)
    assert any(line.strip().startswith(found) and '["f16"]' in line for line in lines)
    assert any(line.strip() == f"expect.absent: {expected} {none_of}" for line in lines)
    if lang != "en":
        words = out.replace(str(tmp_path), "")
        assert not [word for word in ENGLISH_WORDS if word in words], out


def test_the_differences_are_aligned_in_every_language(capsys, tmp_path, kb):
    """What was found sits under what was wanted, in terminal columns (an Arabic shadda takes none)."""
    import re

    from rich.cells import cell_len
    _write(tmp_path, "net.yaml", FAILING)
    for lang in ("fr", "en", "ar"):
        w = Words(lang, kb)
        code, out, _ = run(capsys, "test", "--lang", lang, str(tmp_path / "net.yaml"))
        pairs = [line for line in out.splitlines() if line.startswith("      ")]
        assert code == 1 and len(pairs) == 6
        for wanted, got in zip(pairs[::2], pairs[1::2]):
            head_wanted = re.match(r"^( +expect\.\S+: \S+ +)\S", wanted).group(1)
            head_got = re.match(r"^( +\S+ +)\S", got).group(1)
            assert head_wanted.split(": ", 1)[1].strip() == w("cases.expected") and head_got.strip() == w("cases.found")
            assert cell_len(head_wanted) == cell_len(head_got), (lang, wanted, got)


def test_without_lang_pnman_lang_chooses_else_the_contracts_english(capsys, tmp_path, monkeypatch):
    _write(tmp_path, "size.yaml", "base: member_pe_it\nprofile: {goals: [network]}\nexpect: {size_class: PE}\n")
    monkeypatch.setenv("PNMAN_LANG", "fr")
    assert run(capsys, "test", str(tmp_path))[1].splitlines()[-1] == "1 réussi, 0 échoué"
    monkeypatch.delenv("PNMAN_LANG")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")       # the system's language alone keeps the contract's line
    assert run(capsys, "test", str(tmp_path))[1].splitlines()[-1] == "1 passed, 0 failed"
    assert run(capsys, "test", "--lang", "ar", str(tmp_path))[1].splitlines()[-1] == "حالة واحدة ناجحة، 0 حالة فاشلة"


@pytest.mark.parametrize("lang, counts", [
    ("fr", {(0, 0): "0 réussi, 0 échoué", (2, 1): "2 réussis, 1 échoué", (11, 100): "11 réussis, 100 échoués"}),
    ("en", {(0, 0): "0 passed, 0 failed", (1, 2): "1 passed, 2 failed", (1000, 3): "1,000 passed, 3 failed"}),
    ("ar", {(2, 3): "حالتان ناجحتان، 3 حالات فاشلة", (11, 100): "11 حالةً ناجحة، 100 حالة فاشلة"}),
])
def test_the_summary_counts_take_the_languages_plural_forms(kb, lang, counts):
    from pnman.interview.cli.test_command import summary_line
    w = Words(lang, kb)
    assert {pair: summary_line(*pair, w) for pair in counts} == counts


def test_json_differences_say_descriptions_in_english(capsys, tmp_path):
    import json
    _write(tmp_path, "net.yaml", FAILING)
    code, out, _ = run(capsys, "test", "--format", "json", "--lang", "fr", str(tmp_path))
    differences = {d["key"]: d for d in json.loads(out)["cases"][0]["differences"]}
    assert differences["absent"]["expected"] == 'none of ["f16"]'
    assert differences["steps.f99"]["expected"] == "a step"
