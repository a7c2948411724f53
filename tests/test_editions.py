"""Guide editions (contract §9): dated overlays of figures on the printed guide.

The editions used here are fictitious (tests/editions/2027-test.yaml, or written in a
temporary folder); $PNMAN_EDITIONS points pnman at them. The shipped folder holds none.
"""
from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from pnman import knowledge
from conftest import one_clean_line, run
from pnman.engine.audit import audit
from pnman.engine.facade import assess
from pnman.engine.record import decision_digest, seal
from pnman.knowledge.editions import available, knowledge_for, latest_in_force
from pnman.knowledge.errors import InputError, KnowledgeError
from pnman.knowledge.loader import KNOWLEDGE_DIR
from pnman.knowledge.profile import check_profile

ROOT = Path(__file__).resolve().parent.parent
TEST_EDITIONS = ROOT / "tests" / "editions"
# A PE company that wants a local network: fiche 16, PE table (940 000 DA HT printed; the
# test edition makes its « Service » line 700 000 and its total 1 000 000).
NETWORK = {"name": "Réseau SARL", "employees": 20, "pnman_member": True, "diagnostic_approved": True,
           "general_conditions": True, "recommendations": ["tic_investment", "tic_upgrade"], "goals": ["network"],
           "uses_it": True, "it_infrastructure": True, "local_network": False, "internet_access": True}
EDITION = """\
edition: {id}
date_in_force: {date}
reference: "Texte fictif {id}"
changes:
{changes}
"""


def write_edition(folder: Path, edition_id: str, changes: str, when: str = "2020-01-01", **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = EDITION.format(id=edition_id, date=when, changes=changes)
    text += "".join(f"{key}: {value}\n" for key, value in extra.items())
    path = folder / f"{edition_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def editions(monkeypatch):
    monkeypatch.setenv("PNMAN_EDITIONS", str(TEST_EDITIONS))
    return TEST_EDITIONS


@pytest.fixture()
def profile_file(tmp_path) -> str:
    path = tmp_path / "network.json"
    path.write_text(json.dumps(NETWORK, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_the_shipped_folder_holds_no_edition_and_is_packaged():
    folder = KNOWLEDGE_DIR / "editions"
    assert folder.is_dir() and (folder / "README.md").is_file()
    assert list(folder.glob("*.yaml")) == []
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"editions/*.yaml"' in pyproject and '"editions/*.md"' in pyproject


def test_without_editions_the_base_is_the_default_and_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path))
    base = knowledge.default()
    assert list(available()) == ["base"] and latest_in_force() == "base"
    assert knowledge_for(None) is base and knowledge_for("base") is base and base.edition == "base"
    assert assess(check_profile(NETWORK, base), base).record()["edition"] == "base"


def test_an_edition_replaces_its_figures_only(editions, kb):
    edited = knowledge_for("2027-test")
    assert edited is knowledge_for("2027-test")                 # applied once, then kept
    assert edited.edition == "2027-test" and edited.base is kb and edited.version != kb.version
    table = edited.fiche(16).budget.by_size["PE"]
    assert [line.amount_da_ht for line in table.lines] == [200000, 100000, 700000] and table.total_da_ht == 1000000
    assert kb.fiche(16).budget.by_size["PE"].total_da_ht == 940000          # the base is untouched
    assert edited.fiche(1).budget.days["PE"].days == 18 and edited.fiche(1).budget.days["PE"].tolerance == 2
    assert edited.fiche(2) is kb.fiche(2) and edited.conditions is kb.conditions
    figures = {(a.fiche, a.figure.path): (a.base, a.value) for n in edited.amendments for a in edited.amendments[n]}
    assert figures[(16, "budget.by_size.PE.lines[2].amount_da_ht")] == (640000, 700000)
    assert figures[(23, "budget.options[0].max_da_ht")] == (120000, 150000)
    line = next(a for a in edited.amendments[20] if a.figure.name == "amount_da_ht")
    assert line.reference == "Essai : ligne Matériel de la fiche 20 (fictif)"     # its own reference


def test_the_latest_edition_in_force_is_the_default(monkeypatch, tmp_path):
    write_edition(tmp_path, "e2020", "  - {fiche: 16, size: PE, total_da_ht: 950000}\n"
                  "  - {fiche: 16, size: PE, line: 3, amount_da_ht: 650000}", "2020-01-01")
    write_edition(tmp_path, "e2030", "  - {fiche: 16, size: PE, total_da_ht: 990000}\n"
                  "  - {fiche: 16, size: PE, line: 3, amount_da_ht: 690000}", "2030-01-01")
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path))
    assert list(available()) == ["base", "e2020", "e2030"]
    assert latest_in_force(today=date(2019, 12, 31)) == "base"
    assert latest_in_force(today=date(2020, 1, 1)) == "e2020"
    assert latest_in_force(today=date(2031, 1, 1)) == "e2030"
    assert knowledge_for(None, today=date(2025, 6, 1)).edition == "e2020"


def test_an_edition_can_extend_another(monkeypatch, tmp_path):
    write_edition(tmp_path, "first", "  - {fiche: 1, size: PE, days: 16}", "2020-01-01")
    write_edition(tmp_path, "second", "  - {fiche: 1, size: ME, days: 31}", "2021-01-01", extends="first")
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path))
    second = knowledge_for("second")
    assert second.fiche(1).budget.days["PE"].days == 16 and second.fiche(1).budget.days["ME"].days == 31
    assert {a.edition for a in second.amendments[1]} == {"first", "second"}


# -- errors: exit 2 naming the file and the key -----------------------------------------------------
@pytest.mark.parametrize("changes, key, needle", [
    ("  - {fiche: 99, size: PE, total_da_ht: 1}", "changes[0].fiche", "no fiche 99"),
    ("  - {fiche: 1, size: TPE, days: 3}", "changes[0].size", "prints no TPE"),
    ("  - {fiche: 16, size: PE, line: Servic, amount_da_ht: 1}", "changes[0].line", "'Service'"),
    ("  - {fiche: 16, size: PE, line: 4, amount_da_ht: 1}", "changes[0].line", "no line in the PE table 4"),
    ("  - {fiche: 16, total_da_ht: 1}", "changes[0].size", "required"),
    ("  - {fiche: 16, size: PE, line: 1, total_da_ht: 1}", "changes[0].line", "not used"),
    ("  - {fiche: 16, size: PE, total_da_ht: 1, days: 3}", "changes[0].days", "different items"),
    ("  - {fiche: 23, option: Inconnue, max_da_ht: 1}", "changes[0].option", "no option 'Inconnue'"),
    ("  - {fiche: 23, option: 1, min_da_ht: 130000}", "changes[0].min_da_ht", "above maximum"),
    ("  - {fiche: 1, size: PE, tolerance: 20}", "changes[0].tolerance", "more than"),
    ("  - {fiche: 16, size: PE, total_da_ht: 1}\n  - {fiche: 16, size: PE, total_da_ht: 2}",
     "changes[1].total_da_ht", "already changed"),
    ("  - {fiche: 16, size: PE, total_da_ht: -5}", "changes[0].total_da_ht", "at least 0"),
    ("  - {fiche: 16}", "changes[0].fiche", "no figure to change"),
])
def test_what_an_edition_cannot_address_is_exit_2(capsys, monkeypatch, tmp_path, profile_file, changes, key, needle):
    path = write_edition(tmp_path / "eds", "bad", changes)
    monkeypatch.setenv("PNMAN_EDITIONS", str(path.parent))
    with pytest.raises(KnowledgeError) as err:
        knowledge_for("bad")
    assert str(path) in str(err.value) and f"key '{key}'" in str(err.value) and needle in str(err.value)
    code, out, err_text = run(capsys, "assess", profile_file, "--edition", "bad")
    assert code == 2 and out == "" and one_clean_line(err_text) and key in err_text and "bad.yaml" in err_text


@pytest.mark.parametrize("text, key", [
    ("edition: s1\ndate_in_force: 2020-01-01\nreference: r\ncolour: blue\nchanges:\n  - {fiche: 16, size: PE, total_da_ht: 1}\n",
     "colour"),
    ("edition: s1\ndate_in_force: 2020-01-01\nreference: r\nchanges:\n  - {fiche: 16, size: PE, total_da_ht: \"1\"}\n",
     "changes.0.total_da_ht"),
    ("edition: s1\ndate_in_force: 2020-01-01\nchanges:\n  - {fiche: 16, size: PE, total_da_ht: 1}\n", "reference"),
    ("edition: s1\ndate_in_force: someday\nreference: r\nchanges:\n  - {fiche: 16, size: PE, total_da_ht: 1}\n",
     "date_in_force"),
    ("edition: s1\ndate_in_force: 2020-01-01\nreference: r\nchanges: []\n", "changes"),
    ("edition: s1\ndate_in_force: 2020-01-01\nreference: r\nchanges:\n  - {fiche: 16, size: XL, total_da_ht: 1}\n",
     "changes.0.size"),
    ("edition: other\ndate_in_force: 2020-01-01\nreference: r\nchanges:\n  - {fiche: 16, size: PE, total_da_ht: 1}\n",
     "edition"),
    ("edition: s1\ndate_in_force: 2020-01-01\nreference: r\nextends: nowhere\nchanges:\n"
     "  - {fiche: 16, size: PE, total_da_ht: 1}\n", "extends"),
])
def test_a_file_outside_the_schema_is_exit_2_naming_file_and_key(capsys, monkeypatch, tmp_path, profile_file, text, key):
    (tmp_path / "s1.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path))
    code, out, err = run(capsys, "assess", profile_file)
    assert code == 2 and out == "" and one_clean_line(err), err
    assert "s1.yaml" in err and f"key '{key}'" in err


def test_two_editions_in_force_the_same_day_are_refused(monkeypatch, tmp_path):
    write_edition(tmp_path, "a1", "  - {fiche: 1, size: PE, days: 16}", "2020-01-01")
    write_edition(tmp_path, "a2", "  - {fiche: 1, size: PE, days: 17}", "2020-01-01")
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path))
    with pytest.raises(KnowledgeError, match="date_in_force"):
        available()


def test_an_unknown_edition_is_exit_2_listing_the_available_ones(capsys, editions, profile_file):
    for argv in (("assess", profile_file), ("check", profile_file, "--fiche", "16"), ("fiches",),
                 ("batch", profile_file, "-o", "-")):
        code, out, err = run(capsys, *argv, "--edition", "2099")
        assert code == 2 and one_clean_line(err), argv
        assert "unknown edition '2099'" in err and "available: base, 2027-test" in err
    with pytest.raises(InputError):
        knowledge_for("2099")


def test_a_missing_editions_folder_is_exit_2(capsys, monkeypatch, tmp_path, profile_file):
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path / "nowhere"))
    code, _, err = run(capsys, "assess", profile_file)
    assert code == 2 and one_clean_line(err) and "PNMAN_EDITIONS" in err


# -- the commands --------------------------------------------------------------------------------
def test_assess_with_an_edition_changes_the_totals(capsys, editions, profile_file):
    code, out, _ = run(capsys, "assess", profile_file, "--format", "json", "--edition", "base")
    base = json.loads(out)
    code2, out2, _ = run(capsys, "assess", profile_file, "--format", "json", "--edition", "2027-test")
    edited = json.loads(out2)
    assert code == code2 == 0
    assert base["edition"] == "base" and edited["edition"] == "2027-test"
    assert base["totals"]["investment_da_ht"] == {"min": 940000, "max": 940000}
    assert edited["totals"]["investment_da_ht"] == {"min": 1000000, "max": 1000000}
    step = next(s for s in edited["plan"] if s.get("fiche") == 16)
    assert step["budget"]["total_da_ht"] == 1000000 and step["budget"]["lines"][2]["amount_da_ht"] == 700000
    assert {a["figure"] for a in step["budget"]["amended"]} == {"budget.by_size.PE.lines[2].amount_da_ht",
                                                                 "budget.by_size.PE.total_da_ht"}
    assert "amended" not in next(s for s in base["plan"] if s.get("fiche") == 16)["budget"]
    assert base["knowledge_version"] != edited["knowledge_version"]
    code, out, _ = run(capsys, "assess", profile_file, "--edition", "2027-test")
    assert code == 0 and "1 000 000 DA HT" in out and "2027-test" in out
    code, out, _ = run(capsys, "check", profile_file, "--fiche", "16", "--edition", "2027-test", "--format", "json")
    assert code == 0 and json.loads(out)["fiche"] == 16


def test_the_decision_digest_differs_between_editions(editions, kb):
    profile = check_profile(NETWORK, kb)
    base = assess(profile, kb).record(timestamp="t")
    edited = assess(profile, knowledge_for("2027-test")).record(timestamp="t")
    assert base["decision_digest"] != edited["decision_digest"]
    unaffected = check_profile(dict(NETWORK, employees=60), kb)         # ME: figures the edition leaves alone
    a, b = assess(unaffected, kb).record(timestamp="t"), assess(unaffected, knowledge_for("2027-test")).record(timestamp="t")
    assert a["totals"] == b["totals"] and a["plan"] == b["plan"]
    assert a["decision_digest"] != b["decision_digest"]           # the edition is decision content all the same


def test_fiches_shows_an_edition(capsys, editions):
    code, out, _ = run(capsys, "fiches", "16", "--size", "PE", "--edition", "2027-test")
    assert code == 0 and "700 000 DA HT" in out and "1 000 000 DA HT" in out
    assert "2027-test" in out and "640 000 DA HT → 700 000 DA HT" in out and "Édition d’essai de pnman" in out
    code, out, _ = run(capsys, "fiches", "16", "--size", "PE", "--edition", "base")
    assert code == 0 and "640 000 DA HT" in out and "2027-test" not in out
    code, out, _ = run(capsys, "fiches", "16", "--format", "json", "--edition", "2027-test")
    data = json.loads(out)
    assert data["budget"]["by_size"]["PE"]["total_da_ht"] == 1000000 and data["edition"] == "2027-test"
    assert [a["value"] for a in data["amended"]] == [700000, 1000000]
    code, out, _ = run(capsys, "fiches", "--format", "json", "--edition", "2027-test")
    assert code == 0 and {f["fiche"] for f in json.loads(out) if "amended" in f} == {1, 16, 20, 23}
    code, out, _ = run(capsys, "fiches", "--edition", "2027-test", "--lang", "en")
    assert code == 0 and "Figures changed from the printed guide: 6" in out


def test_validate_checks_every_edition(capsys, monkeypatch, tmp_path, editions):
    code, out, _ = run(capsys, "validate", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"]
    (entry,) = report["editions"]
    assert entry["edition"] == "2027-test" and entry["figures"] == 6 and entry["errors"] == []
    assert [f["code"] for f in entry["findings"]] == ["odd_ranges"]      # fiche 23's raised ceiling now overlaps
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "2027-test" in out
    # a line changed, its total not: the table no longer adds up
    write_edition(tmp_path, "sloppy", "  - {fiche: 16, size: PE, line: Service, amount_da_ht: 700000}")
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path))
    code, out, _ = run(capsys, "validate", "--format", "json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    (error,) = report["editions"][0]["errors"]
    assert error["code"] == "total_mismatch" and error["fiche"] == 16
    assert error["figures"] == {"size_class": "PE", "printed_total_da_ht": 940000, "lines_sum_da_ht": 1000000}
    code, out, _ = run(capsys, "validate")
    assert code == 1 and "sloppy" in out
    # one that cannot be applied is reported, naming file and key
    write_edition(tmp_path, "sloppy", "  - {fiche: 16, size: PE, line: Servic, amount_da_ht: 700000}")
    code, out, _ = run(capsys, "validate")
    assert code == 1 and "sloppy.yaml" in out and "changes[0].line" in out


def test_batch_and_the_interview_take_an_edition(capsys, editions, tmp_path, profile_file):
    portfolio = tmp_path / "p.jsonl"
    portfolio.write_text(json.dumps(NETWORK, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, _ = run(capsys, "batch", str(portfolio), "-o", str(out), "--edition", "2027-test")
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert code == 0 and line["edition"] == "2027-test" and line["totals"]["investment_da_ht"]["max"] == 1000000
    summary = json.loads((tmp_path / "out.summary.json").read_text(encoding="utf-8"))
    assert summary["edition"] == "2027-test" and summary["investment_da_ht"]["max"] == 1000000
    transcript = tmp_path / "t.json"
    code, _, _ = run(capsys, "interview", "--answers", profile_file, "--transcript", str(transcript),
                     "--edition", "2027-test")
    result = json.loads(transcript.read_text(encoding="utf-8"))["result"]
    assert code == 0 and result["edition"] == "2027-test"
    assert result["totals"]["investment_da_ht"]["max"] == 1000000


# -- audit ------------------------------------------------------------------------------------------
def test_an_old_record_still_replays_under_the_base_after_an_edition_is_added(capsys, monkeypatch, tmp_path,
                                                                               profile_file):
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path / "none"))
    (tmp_path / "none").mkdir()
    code, out, _ = run(capsys, "assess", profile_file, "--format", "json")
    record = json.loads(out)
    assert code == 0 and record["edition"] == "base"
    before = tmp_path / "before.json"
    before.write_text(out, encoding="utf-8")
    # a record made before editions existed: no `edition` at all, its digests its own
    old = {k: v for k, v in record.items() if k not in ("edition", "record_hash")}
    old["decision_digest"] = decision_digest(old)
    old = seal(old)
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    # now an edition comes into force that changes this company's figures
    write_edition(tmp_path / "eds", "newer", "  - {fiche: 16, size: PE, line: Service, amount_da_ht: 700000}\n"
                  "  - {fiche: 16, size: PE, total_da_ht: 1000000}")
    monkeypatch.setenv("PNMAN_EDITIONS", str(tmp_path / "eds"))
    assert latest_in_force() == "newer"
    code, out, _ = run(capsys, "assess", profile_file, "--format", "json")
    assert json.loads(out)["edition"] == "newer"                     # new records take the new figures
    for path in (before, legacy):
        code, out, _ = run(capsys, "audit", str(path), "--format", "json")
        report = json.loads(out)
        assert code == 0 and report["verdict"] == "match", report["differences"][:3]
        assert report["edition"]["replayed_under"] == "base"
    code, out, _ = run(capsys, "audit", str(legacy))
    assert code == 0 and "CONFORME" in out


def test_a_record_replays_under_its_own_edition(capsys, editions, tmp_path, profile_file, kb):
    path = tmp_path / "edited.json"
    code, _, _ = run(capsys, "assess", profile_file, "--format", "json", "--edition", "2027-test", "-o", str(path))
    assert code == 0
    code, out, _ = run(capsys, "audit", str(path), "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "match"
    assert report["edition"] == {"recorded": "2027-test", "replayed_under": "2027-test"}
    record = json.loads(path.read_text(encoding="utf-8"))
    assert audit(copy.deepcopy(record), kb)["verdict"] == "match"         # whatever Knowledge the caller holds
    # the same record claiming the base: its figures are not the base's
    claimed = copy.deepcopy(record)
    claimed["edition"] = "base"
    claimed["decision_digest"] = decision_digest(claimed)
    report = audit(seal(claimed), kb)
    assert report["verdict"] in ("mismatch", "rules_changed") and not report["match"]
    assert any("total" in d["path"] or "budget" in d["path"] for d in report["differences"])
    # a record naming an edition that is not there: exit 2, naming the key
    claimed["edition"] = "2099"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(seal(claimed), ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "audit", str(bad))
    assert code == 2 and one_clean_line(err) and "key 'edition'" in err and "2099" in err
    code, out, _ = run(capsys, "explain", str(path), "--fiche", "16", "--format", "json")
    assert code == 0 and json.loads(out)["in_plan"]


def test_a_batch_is_resumed_only_under_its_own_edition(capsys, editions, tmp_path):
    portfolio = tmp_path / "p.jsonl"
    portfolio.write_text("".join(json.dumps(dict(NETWORK, name=f"N{i}"), ensure_ascii=False) + "\n" for i in range(3)),
                         encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, _ = run(capsys, "batch", str(portfolio), "-o", str(out), "--edition", "base")
    assert code == 0
    first = out.read_text(encoding="utf-8").splitlines()[0]
    (tmp_path / "out.jsonl.partial").write_text(first + "\n", encoding="utf-8")      # as a killed run leaves it
    code, _, err = run(capsys, "batch", str(portfolio), "-o", str(out), "--resume", "--edition", "2027-test")
    assert code == 2 and one_clean_line(err) and "--edition base" in err
    code, _, _ = run(capsys, "batch", str(portfolio), "-o", str(out), "--resume", "--edition", "base")
    assert code == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 3
