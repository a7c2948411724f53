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


# -- the refusals worded since: edition files, audit, --resume, workbooks, case files, strict
# YAML, sessions, accounts, serve, the web API. The messages' language comes from $PNMAN_LANG
# here (not every command has --lang); $PNMAN_EDITIONS names a folder of broken editions.
def _edition_folder(tmp: Path, name: str, text: str) -> str:
    folder = tmp / f"editions-{name}"
    folder.mkdir()
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return str(folder)


def _workbook(path: Path, rows: list[list]) -> str:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return str(path)


def _more_cases(tmp: Path) -> dict:
    """name -> (arguments, environment, an English fragment the refusal must say)."""
    made = iter(range(1000))

    def p(text: str, suffix: str = ".yaml") -> str:
        return _profile(tmp, text, f"m{next(made)}{suffix}")
    profile = str(ROOT / "examples/pe-internet.yaml")
    edition = "edition: e1\ndate_in_force: 2020-01-01\nreference: x\nchanges:\n"
    cases_file = p("name: c\nprofile: {employees: 12}\nexpect: {statuses: {99: eligible}}\n")
    return {
        "edition: name": (["fiches", "1"], {"PNMAN_EDITIONS": _edition_folder(tmp, "e0", edition.replace("e1", "zz")
                                                                           + "  - {fiche: 1, size: PE, days: 3}\n")},
                          "the file must be named after its edition"),
        "edition: schema": (["fiches", "1"], {"PNMAN_EDITIONS": _edition_folder(tmp, "e2", edition.replace(
            "e1", "e2").replace("2020-01-01", "soon") + "  - {fiche: 1, size: PE, days: 3}\n")}, "expected a date"),
        "edition: no fiche": (["assess", profile, "--edition", "e3"], {"PNMAN_EDITIONS": _edition_folder(
            tmp, "e3", edition.replace("e1", "e3") + "  - {fiche: 99, size: PE, total_da_ht: 1}\n")},
                              "no fiche 99 in the guide"),
        "edition: unknown": (["assess", profile, "--edition", "nope"], {}, "unknown edition 'nope'"),
        "audit: not a result": (["audit", p("[]", ".json")], {}, "expected an assessment result"),
        "audit: schema": (["audit", p('{"schema": "x"}', ".json")], {}, "expected schema"),
        "resume: stdout": (["batch", _write(tmp / "r.csv", "employees\n3\n"), "-o", "-", "--resume"], {},
                           "--resume needs an output file"),
        "registry: date filter": (["registry", "list", "--registry", str(tmp / "none.sqlite3"), "--since", "hier"],
                                  {}, "expected a date (2025-03-01)"),
        "workbook: not a zip": (["batch", _write(tmp / "nz.xlsx", "not a zip"), "-o", str(tmp / "o.jsonl")], {},
                                "is not an .xlsx workbook"),
        "case file: shape": (["test", cases_file], {}, "expected a fiche number from 1 to"),
        "YAML: duplicate key": (["assess", p("employees: 1\nemployees: 2\n")], {}, "duplicate key 'employees'"),
        "YAML: alias": (["assess", p("employees: 12\ngoals: &g [erp]\nfiches: *g\n")], {}, "aliases"),
        "YAML: base 60": (["assess", p("employees: 1:20\n")], {}, "base-60"),
        "interview: no terminal": (["interview", "--session", "s"], {"PNMAN_HOME": str(tmp)}, "needs a terminal"),
        "interview: headless": (["interview", "--answers", profile], {"PNMAN_HOME": str(tmp)},
                                "headless mode needs both"),
        "users: name": (["users", "--accounts", str(tmp / "acc.sqlite3"), "disable", "nobody"], {},
                        "no account 'nobody'"),
        "users: no password": (["users", "--accounts", str(tmp / "acc.sqlite3"), "add", "bob", "--role", "admin"],
                               {}, "expected the password on one line"),
        "serve: port": (["serve", "--port", "0"], {}, "expected a port from 1 to 65535"),
        "serve: no account": (["serve", "--host", "0.0.0.0", "--accounts", str(tmp / "none.sqlite3")], {},
                              "no account exists"),
    }


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_other_refusals_speak_the_chosen_language(tmp_path, capsys, monkeypatch, lang):
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(""))      # no terminal
    for name, (args, env, fragment) in _more_cases(tmp_path).items():
        with monkeypatch.context() as m:
            m.setenv("PNMAN_LANG", lang)
            for key, value in env.items():
                m.setenv(key, value)
            code, err = _run(capsys, args)
        assert code == 2, (name, err)
        _check(lang, err, fragment, tmp_path)


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_resume_workbook_and_worker_words(tmp_path, capsys, monkeypatch, lang):
    """A partial output written with other options, a workbook's bad cells (the rows' errors),
    a worker's death (the row's error) and a short password: each in the chosen language."""
    monkeypatch.setenv("PNMAN_LANG", lang)
    source = _write(tmp_path / "in.csv", "name,employees\nA,3\nB,4\n")
    out = tmp_path / "out.jsonl"
    assert _run(capsys, ["batch", source, "-o", str(out)])[0] == 0
    out.rename(tmp_path / "out.jsonl.partial")
    code, err = _run(capsys, ["batch", source, "-o", str(out), "--resume", "--full"])
    assert code == 2
    _check(lang, err, "was written without --full", tmp_path)

    book = _workbook(tmp_path / "p.xlsx", [["name", "employees", "pnman_member"], ["A", "=6*2", True],
                                           ["B", "douze", 1], ["C", 12.5, True]])
    code, err = _run(capsys, ["batch", book, "-o", str(tmp_path / "w.jsonl")])
    assert code == 0, err
    errors = [json.loads(line)["error"] for line in (tmp_path / "w.jsonl").read_text(encoding="utf-8").splitlines()
              if "error" in json.loads(line)]
    assert len(errors) == 3
    for message, fragment in zip(errors, ("a formula", "expected a whole number", "found the number 12.5")):
        _check(lang, message.replace("=6*2", "") + "\n", fragment, tmp_path)

    from pnman.interview.cli.batch import assessing, workers
    assessing.init_worker(messages=lang)
    try:
        _check(lang, workers._death(-9) + "\n", "died (signal 9, SIGKILL)", tmp_path)
        _check(lang, workers._death(3) + "\n", "ended (exit code 3)", tmp_path)
    finally:
        assessing.init_worker()

    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("short\n"))
    code, err = _run(capsys, ["users", "--accounts", str(tmp_path / "a.sqlite3"), "add", "bob", "--role", "admin"])
    assert code == 2
    _check(lang, err, "at least 12 characters", tmp_path)


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_damaged_and_locked_sessions_speak_the_chosen_language(tmp_path, monkeypatch, kb, lang):
    from pnman.interview.questionnaire import session as sessions
    from pnman.knowledge.errors import InputError
    from pnman.knowledge.locales import catalogue
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path))
    folder = tmp_path / "sessions"
    folder.mkdir()
    (folder / "s.json").write_text('{"schema": "pnman-session/1", "answers": [', encoding="utf-8")
    with pytest.raises(InputError) as damaged:
        sessions.open_session("s", kb, resume=True, lang="fr")
    first = sessions.open_session("t", kb, resume=False, lang="fr")
    try:
        with pytest.raises(InputError) as locked:
            sessions.open_session("t", kb, resume=True, lang="fr")
    finally:
        first.close()
    cat = catalogue(lang)
    text = damaged.value.render(cat)
    _check(lang, re.sub(r"\(.*?line 1 column \d+ \(char \d+\)", "", text.replace("Expecting value:", "")) + "\n",
           "kept aside", tmp_path)
    _check(lang, locked.value.render(cat) + "\n", "already open in another interview", tmp_path)


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_web_refusals_speak_the_servers_language(tmp_path, monkeypatch, lang):
    """The JSON API's 400/401/404 messages, the dashboard's bad filter, the Host refusal: the
    server's message language ($PNMAN_LANG), as the command line's."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pnman.interview.web.app import Settings, create_app
    from pnman.knowledge import default
    monkeypatch.setenv("PNMAN_LANG", lang)
    app = create_app(Settings(kb=default(), sessions=tmp_path, accounts=tmp_path / "acc.sqlite3"))
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    json_type = {"Content-Type": "application/json"}
    answers = {
        "not JSON": (client.post("/api/assess", content=b"{", headers=json_type), 400, "the body is not JSON"),
        "bad profile": (client.post("/api/assess", content=b'{"employes": 3}', headers=json_type), 400,
                        "did you mean"),
        "bad lang": (client.post("/api/interviews", content=b'{"lang": "de"}', headers=json_type), 400,
                     "expected one of"),
        "no interview": (client.get("/api/interviews/zzz"), 404, "no interview 'zzz'"),
        "wrong type": (client.post("/api/assess", content=b"{}", headers={"Content-Type": "text/plain"}), 415,
                       "expected a JSON body"),
        "Host": (TestClient(app, base_url="http://evil.example").get("/healthz"), 400, "this server answers to"),
    }
    for name, (response, status, fragment) in answers.items():
        assert response.status_code == status, (name, response.text)
        _check(lang, response.json()["error"].replace("(Content-Type: application/json)", "") + "\n", fragment,
               tmp_path)


# -- the help: every command's line and description, every option's help, in the messages' language
def _parsers(parser):
    """The parser and every sub-parser under it, with its name."""
    import argparse
    found = [("pnman", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                found.append((choice.dest, choice))
            for name, sub in action.choices.items():
                found.extend((f"{name} {n}", p) for n, p in _parsers(sub))
    return found


def _help_texts(lang: str) -> list[tuple[str, str]]:
    from pnman.interview.cli import main as cli_main, words
    from pnman.knowledge.locales import catalogue
    before = words.current
    words.current = catalogue(lang)
    try:
        parser = cli_main.build_parser()
    finally:
        words.current = before
    texts = [("pnman", parser.description)]
    for name, p in _parsers(parser):
        if hasattr(p, "_actions"):
            texts.append((name, p.description))
            texts.extend((f"{name} {a.dest}", a.help) for a in p._actions if a.help and a.dest != "help")
        elif getattr(p, "help", None):
            texts.append((name, p.help))
    return [(name, text) for name, text in texts if text]


def test_every_help_text_is_in_the_chosen_language():
    english = _help_texts("en")
    for lang in ("fr", "ar"):
        texts = _help_texts(lang)
        assert [name for name, _ in texts] == [name for name, _ in english] and len(texts) > 100
        for (name, text), (_, in_english) in zip(texts, english):
            assert text != in_english, (lang, name, text)
            if lang == "ar":
                assert ARABIC.search(text), (name, text)


@pytest.mark.parametrize("lang", ["fr", "ar"])
@pytest.mark.parametrize("argv", [["--help"], ["batch", "--help"], ["registry", "verify", "--help"], ["users", "--help"]])
def test_help_speaks_the_chosen_language(capsys, monkeypatch, lang, argv):
    monkeypatch.setenv("PNMAN_LANG", lang)
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    out = capsys.readouterr().out
    prose = re.sub(r"\{[^}]*\}|\[[^\]]*\]|--?[\w-]+|\$?[A-Z_]{2,}[\w.]*|[\w./-]+\.(?:yaml|json|jsonl|csv|xlsx|md|sqlite3|txt|key|pub)\b"
                   r"|'[^']*'|« [^»]* »|\"[^\"]*\"|Authorization: Bearer|Content-Type|pnman \w+", " ", out)
    prose = prose.replace("arguments:", "")          # French too (argparse's « positional arguments »)
    assert not ENGLISH.search(prose), (lang, ENGLISH.search(prose).group(0), out)
    if lang == "ar":
        assert ARABIC.search(out)
