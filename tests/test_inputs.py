"""Bad input gets exit 2 and one clear line: what YAML 1.1 and JSON let through, and
records crafted to break explain and audit."""
from __future__ import annotations

import copy
import json

import pytest

from conftest import record_of, run
from pnman.knowledge.profile import check_profile
from pnman.knowledge.yamlio import MAX_NODES

ERP = {"name": "Ets Test", "employees": 60, "pnman_member": True, "diagnostic_approved": True, "general_conditions": True,
       "recommendations": ["erp", "tic_investment"], "goals": ["erp"], "uses_it": True, "management_rules": True}




@pytest.mark.parametrize("command", [["assess"], ["check", "--fiche", "2"], ["graph"]])
def test_a_lone_surrogate_is_bad_input(tmp_path, capsys, command):
    path = tmp_path / "p.json"
    path.write_text('{"employees": 12, "name": "Ets \\ud800"}', encoding="utf-8")
    code, _, err = run(capsys, command[0], str(path), *command[1:])
    assert code == 2 and "lone surrogate" in err and err.count("\n") == 1


def test_a_lone_surrogate_in_a_record_is_bad_input(tmp_path, capsys, kb):
    record = record_of(check_profile(ERP, kb), kb, lang="fr")
    text = json.dumps(record).replace('"Ets Test"', '"Ets \\ud800"', 1)
    path = tmp_path / "r.json"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "audit", str(path))
    assert code == 2 and "lone surrogate" in err


@pytest.mark.parametrize("text,needle", [
    ("employees: 1:20\n", "base-60"),                        # YAML 1.1 would read 80
    ("employees: 12\nworkstations_needed: 1:20.5\n", "base-60"),
    ("employees: 12\ngoals: &g [erp]\nfiches: *g\n", "aliases"),
])
def test_yaml_surprises_are_refused(tmp_path, capsys, text, needle):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "assess", str(path))
    assert code == 2 and needle in err


def test_a_quoted_time_like_text_is_still_a_text(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text('employees: 12\nname: "1:20"\n', encoding="utf-8")
    code, out, _ = run(capsys, "assess", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["profile"]["name"] == "1:20"


def test_a_huge_yaml_document_is_refused_early_and_in_one_line(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("employees: 12\nname: [" + ", ".join("[a, b]" for _ in range(MAX_NODES // 2)) + "]\n",
                    encoding="utf-8")
    code, _, err = run(capsys, "assess", str(path))
    assert code == 2 and f"more than {MAX_NODES} values" in err and len(err) < 300


def test_a_long_wrong_value_is_quoted_short(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"employees": 12, "name": ["x" * 5000]}), encoding="utf-8")
    code, _, err = run(capsys, "assess", str(path))
    assert code == 2 and "key 'name'" in err and len(err) < 200


def test_an_integer_beyond_64_bits_in_a_record_is_bad_input(tmp_path, capsys, kb):
    record = record_of(check_profile(ERP, kb), kb, lang="fr")
    record["totals"]["investment_da_ht"]["max"] = 2 ** 70
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    for command in (["audit", str(path)], ["explain", str(path), "--fiche", "10"]):
        code, _, err = run(capsys, *command)
        assert code == 2 and "totals.investment_da_ht.max" in err and "64 bits" in err


BAD_VALUES = [None, "x", [], {}, -1, True, 1.5]


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from _paths(item, path + (index,))


@pytest.mark.slow
def test_crafted_records_never_crash_explain_or_audit(tmp_path, capsys, kb):
    """Fields of a record replaced by values of wrong types (every top-level field with
    every value, and a fixed sample of the deeper ones): exit 0, 1 or 2, never a crash."""
    import random
    ready = dict(ERP, specs_erp=True, it_infrastructure=True, project_manager_erp=True)   # fiche 10 eligible:
    record = record_of(check_profile(ready, kb), kb, lang="fr")                          # explain stays quick
    record["trace"] = record["trace"][:3]
    path = tmp_path / "r.json"
    crashes = []
    every = [(where, bad) for where in list(_paths(record))[1:] for bad in BAD_VALUES]
    cases = [c for c in every if len(c[0]) == 1] + random.Random(7).sample([c for c in every if len(c[0]) > 1], 150)
    for where, bad in cases:
        crafted = copy.deepcopy(record)
        node = crafted
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = bad
        path.write_text(json.dumps(crafted), encoding="utf-8")
        for command in (["explain", str(path), "--fiche", "10"], ["audit", str(path)]):
            code, _, err = run(capsys, *command)
            if code not in (0, 1, 2) or "internal error" in err:
                crashes.append((command[0], where, bad, err.strip()[:100]))
    assert crashes == []


FORGED = "Ets\x1b[2J Nord\r\nClasse de taille : ME\u202e gnp.exe [x](javascript:alert(1)) ![](http://t/p.gif)"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_a_hostile_company_name_is_neutralised_in_every_report(tmp_path, capsys, fmt):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"employees": 12, "name": FORGED, "goals": ["network"]}), encoding="utf-8")
    code, out, _ = run(capsys, "assess", str(path), "--format", fmt)
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "\\x1b" in out and "\\u202e" in out
    assert not any(line.lstrip("│ ").startswith("Classe de taille : ME") for line in out.splitlines())
    if fmt == "markdown":
        assert "](javascript:" not in out.replace("\\]", "") and "\\[x\\]" in out and "!\\[\\]" in out


def test_a_hostile_name_is_neutralised_in_graphs(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"employees": 12, "name": FORGED, "goals": ["network"]}), encoding="utf-8")
    for fmt in ("dot", "mermaid"):
        code, out, _ = run(capsys, "graph", str(path), "--format", fmt)
        assert code == 0 and "\x1b" not in out and "\u202e" not in out and "\r" not in out


YES_NO_WORDS = [(w, True) for w in ("true", "yes", "on", "y", "vrai", "oui", "o", "1")] + \
               [(w, False) for w in ("false", "no", "off", "n", "faux", "non", "0")]


@pytest.mark.parametrize("word,meaning", YES_NO_WORDS)
def test_every_input_takes_the_same_yes_no_words(tmp_path, capsys, word, meaning):
    """A YAML profile, a JSON profile, a CSV cell of batch and an interview answer agree."""
    from pnman.interview.questionnaire.machine import Interview, MemoryState
    from pnman.interview.render.l10n import Words
    from pnman.knowledge import default
    kb = default()
    for spelling in dict.fromkeys((word, word.capitalize(), word.upper())):
        yaml_file = tmp_path / "p.yaml"
        yaml_file.write_text(f"employees: 20\nuses_it: {spelling}\n", encoding="utf-8")
        json_file = tmp_path / "p.json"
        json_file.write_text(json.dumps({"employees": 20, "uses_it": spelling}), encoding="utf-8")
        for path in (yaml_file, json_file):
            code, out, err = run(capsys, "assess", str(path), "--format", "json")
            assert code == 0, err
            assert json.loads(out)["profile"]["uses_it"] is meaning, (path.suffix, spelling)
        csv_file = tmp_path / "p.csv"
        csv_file.write_text(f"name,employees,uses_it\nA,20,{spelling}\n", encoding="utf-8")
        code, _, err = run(capsys, "batch", str(csv_file), "-o", str(tmp_path / "r.jsonl"), "--full")
        assert code == 0, err
        row = json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()[0])
        assert row["record"]["profile"]["uses_it"] is meaning, ("csv", spelling)
    state = MemoryState(lang="fr", answers={"employees": 20, "uses_it": not meaning}, asked=["employees", "uses_it"])
    interview = Interview(kb, Words("fr", kb), state)
    interview.answer("uses_it", word)   # changing an answer already given
    assert interview.state.answers["uses_it"] is meaning


@pytest.mark.parametrize("value", ["peut-être", "2", "oui non", ""])
def test_a_word_that_is_not_yes_or_no_is_refused_naming_the_key(tmp_path, capsys, value):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"employees": 20, "uses_it": value}), encoding="utf-8")
    code, _, err = run(capsys, "assess", str(path))
    assert code == 2 and "uses_it" in err and "expected true or false" in err
