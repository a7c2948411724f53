"""Every refusal (exit 2) in the user's language: each known refusal made in French, English
and Arabic, through the command line; the French and Arabic messages hold no English
sentence, the Arabic ones are written in Arabic; --lang, then $PNMAN_LANG, then $LANG choose."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pnman.interview.cli.main import main
from pnman.knowledge.locales import message_language

ROOT = Path(__file__).resolve().parents[1]
# Words an English refusal is made of; none may be left in a French or Arabic one.
ENGLISH = re.compile(r"\b(expected|found|unknown|is not|cannot|did you mean|no such|the|must|required|please|see|"
                     r"should|argument|arguments|invalid|choose|error|file|column|entry|key|reason|at least)\b",
                     re.IGNORECASE)
ARABIC = re.compile("[\u0600-\u06ff]")


def _write(path: Path, content: str | bytes) -> str:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def _profile(tmp: Path, text: str, name: str = "p.yaml") -> str:
    return _write(tmp / name, text)


def _read_only(path: Path) -> str:
    path.write_text("old", encoding="utf-8")
    path.chmod(0o444)
    return str(path)


def _registry_with_one_entry(tmp: Path) -> tuple[str, str]:
    reg = str(tmp / "reg.sqlite3")
    done = subprocess.run([sys.executable, "-m", "pnman", "assess", str(ROOT / "examples/pe-internet.yaml"),
                           "--record", "--registry", reg, "--format", "json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    entry = re.search(r"\b(\d+-[0-9a-f]{6})\b", done.stderr).group(1)
    return reg, entry


# name -> (how to make the files, the command's arguments, an English fragment it must say)
def _cases(tmp: Path) -> dict:
    made = iter(range(1000))

    def p(text: str, suffix: str = ".yaml") -> str:       # one file a case: all are made before any runs
        return _profile(tmp, text, f"p{next(made)}{suffix}")
    return {
        "unknown key": (["assess", p("employes: 12\n")], "did you mean 'employees'"),
        "unknown key, no hint": (["assess", p("zzzzzz: 12\nemployees: 12\n")], "unknown key"),
        "wrong type": (["assess", p("employees: douze\n")], "expected a whole number"),
        "out of range": (["assess", p("employees: -3\n")], "expected a whole number from 0"),
        "not yes or no": (["assess", p("employees: 12\nuses_it: peut-être\n")], "expected true or false"),
        "not a choice": (["assess", p("employees: 12\ngoals: [sitweb]\n")], "is not one of"),
        "not a mapping": (["assess", p("- a\n- b\n")], "the top level must be a mapping"),
        "no headcount": (["assess", p("name: X\n")], "is required: the headcount"),
        "no such file": (["assess", str(tmp / "absent.yaml")], "no such profile"),
        "a directory": (["assess", str(tmp)], "is a directory"),
        "extension": (["assess", p("employees: 1\n", ".txt")], "has extension '.txt'"),
        "empty": (["assess", p("  \n")], "is empty"),
        "binary": (["assess", _write(tmp / "b.yaml", b"employees: 1\x00\n")], "is a binary file"),
        "not UTF-8": (["assess", _write(tmp / "w.yaml", "name: Café\nemployees: 3\n".encode("cp1252"))],
                      "is not UTF-8 text"),
        "YAML syntax": (["assess", p("employees: [1\n")], "invalid YAML at line"),
        "fiche out of range": (["check", str(ROOT / "examples/pe-internet.yaml"), "--fiche", "99"],
                               "expected a fiche number from 1 to"),
        "write: read-only": (["assess", str(ROOT / "examples/pe-internet.yaml"), "-o", _read_only(tmp / "ro.txt")],
                             "is read-only (mode 0444)"),
        "write: no folder": (["assess", str(ROOT / "examples/pe-internet.yaml"), "-o", str(tmp / "nope" / "r.txt")],
                             "its folder does not exist"),
        "batch: Windows-1252 CSV": (["batch", _write(tmp / "w.csv", "name;employees\nCafé;3\n".encode("cp1252")),
                                     "-o", str(tmp / "out.jsonl")], "CSV UTF-8"),
        "batch: unknown column": (["batch", _write(tmp / "u.csv", "name,employes\nA,3\n"), "-o",
                                   str(tmp / "out.jsonl")], "unknown column 'employes'"),
        "batch: two separators": (["batch", _write(tmp / "s.csv", "name;employees,uses_it\nA;3,oui\n"), "-o",
                                   str(tmp / "out.jsonl")], "both ';'"),
        "registry: an empty file": (["registry", "list", "--registry", _write(tmp / "empty.sqlite3", b"")],
                                    "is an empty file, not a pnman registry"),
        "registry: a folder": (["registry", "list", "--registry", str(tmp)], "is a folder, expected a registry file"),
        "batch: extension": (["batch", _write(tmp / "x.ods", "a"), "-o", str(tmp / "out.jsonl")],
                             "expected .csv, .jsonl or .xlsx; save it from Excel"),
    }


def _run(capsys, args: list[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err


def _check(lang: str, message: str, english_fragment: str, tmp: Path) -> None:
    text = message.replace(str(tmp), "<tmp>").replace(str(ROOT), "<root>")
    assert text.count("\n") == 1, text                      # one line
    if lang == "en":
        assert english_fragment in text, text
        return
    words = re.sub(r"<[a-z]+>[^\s:]*|'[^']*'|« [^»]* »|\.[a-z]+\b|--\w+|pnman \w+", " ", text)
    assert not ENGLISH.search(words), (lang, text, ENGLISH.search(words).group(0))
    if lang == "ar":
        assert ARABIC.search(text), text


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_every_known_refusal_speaks_the_chosen_language(tmp_path, capsys, lang):
    for name, (args, fragment) in _cases(tmp_path).items():
        code, err = _run(capsys, [*args, "--lang", lang])
        assert code == 2, (name, err)
        _check(lang, err, fragment, tmp_path)


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_override_refusals_speak_the_chosen_language(tmp_path, capsys, monkeypatch, lang):
    """override has no --lang of its own: $PNMAN_LANG chooses."""
    reg, entry = _registry_with_one_entry(tmp_path)
    monkeypatch.setenv("PNMAN_LANG", lang)
    base = ["override", entry, "--registry", reg, "--fiche", "22", "--status", "ineligible"]
    cases = {
        "unknown reason": ([*base, "--reason", "zzz", "--justification", "x" * 30, "--by", "A. Diag"],
                           "unknown reason code"),
        "short justification": ([*base, "--reason", _reason(), "--justification", "trop court", "--by", "A. Diag"],
                                "expected at least 20 characters"),
        "no name": ([*base, "--reason", _reason(), "--justification", "x" * 30, "--by", " "],
                    "expected the name of the person"),
        "no such entry": (["override", "999-abcdef", "--registry", reg, "--fiche", "22", "--status", "ineligible",
                           "--reason", _reason(), "--justification", "x" * 30, "--by", "A. Diag"], "no entry"),
    }
    for name, (args, fragment) in cases.items():
        code, err = _run(capsys, args)
        assert code == 2, (name, err)
        _check(lang, err, fragment, tmp_path)


def _reason() -> str:
    from pnman.knowledge.overrides import override_reasons
    return override_reasons()[0]


def test_a_bad_batch_row_speaks_the_chosen_language(tmp_path, capsys):
    portfolio = _write(tmp_path / "rows.csv", "name,employees,uses_it\nA,3,oui\nB,douze,non\nC,4,peut-être\n")
    for lang in ("fr", "en", "ar"):
        out = tmp_path / f"out-{lang}.jsonl"
        code, err = _run(capsys, ["batch", portfolio, "-o", str(out), "--lang", lang])
        assert code == 0, err
        errors = [json.loads(line)["error"] for line in out.read_text(encoding="utf-8").splitlines()
                  if "error" in json.loads(line)]
        assert len(errors) == 2
        for message in errors:
            _check(lang, message + "\n", "expected", tmp_path)


def test_the_environment_chooses_when_no_lang_is_given(tmp_path):
    assert message_language(["assess", "p.yaml", "--lang", "ar"], {"PNMAN_LANG": "en"}) == "ar"
    assert message_language(["assess", "--lang=en"], {}) == "en"
    assert message_language([], {"PNMAN_LANG": "ar", "LANG": "en_US.UTF-8"}) == "ar"
    assert message_language([], {"LANG": "en_US.UTF-8"}) == "en"
    assert message_language([], {"LANG": "fr_DZ.UTF-8"}) == "fr"
    assert message_language([], {"LANG": "C.UTF-8"}) == "fr"          # no catalogue: the guide's language
    profile = _profile(tmp_path, "employes: 12\n")
    for env, lang in (({"PNMAN_LANG": "ar"}, "ar"), ({"LANG": "en_GB.UTF-8"}, "en"), ({"LANG": "fr_FR.UTF-8"}, "fr")):
        clean = {k: v for k, v in __import__("os").environ.items() if k not in ("PNMAN_LANG", "LANG", "LC_ALL")}
        done = subprocess.run([sys.executable, "-m", "pnman", "assess", profile], capture_output=True, text=True,
                              env={**clean, **env}, timeout=120)
        assert done.returncode == 2
        _check(lang, done.stderr, "did you mean", tmp_path)


def test_no_refusal_wording_uses_the_name_key():
    """Catalogue.text(key, **figures) takes the entry's key first: a figure named {key}
    would make every such refusal fail to be worded (a TypeError instead of the message)."""
    from pnman.knowledge.locales import available_languages, catalogue
    for lang in available_languages():
        cat = catalogue(lang)
        assert [k for k in cat.keys if "{key}" in str(cat.raw(k))] == []


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_an_engine_refusal_speaks_the_chosen_language(tmp_path, capsys, monkeypatch, lang):
    from pnman.rules import engines
    profile = _profile(tmp_path, "employees: 12\n")
    monkeypatch.setenv(engines.ENVIRONMENT, "drools")
    code, err = _run(capsys, ["assess", profile, "--lang", lang])
    assert code == 2
    _check(lang, err.replace("durable, clips", "").replace("clipspy", ""), "expected one of", tmp_path)
    monkeypatch.setattr(engines, "available", lambda name: name != "durable")
    monkeypatch.setenv(engines.ENVIRONMENT, "durable")
    code, err = _run(capsys, ["assess", profile, "--lang", lang])
    assert code == 2
    _check(lang, err.replace("durable-rules", "").replace("Python", "").replace("PNMAN_ENGINE", ""),
           "is not installed", tmp_path)
