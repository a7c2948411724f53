"""The assessment registry (contract §8) through the CLI: append, list, show, verify, export,
overrides; what it refuses; what tampering it detects; the plan with overrides applied."""
from __future__ import annotations

import copy
import hashlib
import json
import re
import sqlite3
import threading
import zlib
from pathlib import Path

import pytest

from conftest import one_clean_line, record_of, run
from pnman.records.chain import entry_hash, payload_bytes
from pnman.engine.record import canonical_json, decision_digest
from pnman.records.registry import Registry, parse_when
from pnman.records.store import RegistryStore
from pnman.knowledge.errors import InputError, KnowledgeError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PME = str(EXAMPLES / "pme-industrielle.yaml")       # goals gpao, gmao: fiches 1, 2, 3, 4 planned; 2 and 4 conditional
TPE = str(EXAMPLES / "tpe-demarrage.yaml")
ME = str(EXAMPLES / "me-erp.yaml")
ENTRY_ID = re.compile(r"\b(\d+-[0-9a-f]{6})\b")
WHY = "Le cahier des charges GPAO a été remis le 3 mars 2025 (pièce n° 12)"


@pytest.fixture
def reg(tmp_path, monkeypatch):
    """A registry path for the test; PNMAN_REGISTRY points elsewhere to show --registry wins."""
    monkeypatch.setenv("PNMAN_REGISTRY", str(tmp_path / "not-this-one.sqlite3"))
    return str(tmp_path / "registry.sqlite3")


def record(capsys, reg, profile=PME, *extra) -> str:
    code, _, err = run(capsys, "assess", profile, "--record", "--registry", reg, *extra)
    assert code == 0, err
    found = ENTRY_ID.findall(err)
    assert len(found) == 1 and reg in err
    return found[0]


def listed(capsys, reg, *filters) -> list[dict]:
    code, out, err = run(capsys, "registry", "list", "--registry", reg, "--format", "json", *filters)
    assert code == 0, err
    return json.loads(out)


def shown(capsys, reg, entry) -> dict:
    code, out, err = run(capsys, "registry", "show", entry, "--registry", reg, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def override(capsys, reg, entry, fiche="2", status="eligible", reason="document_evidence", why=WHY, by="A. Diag"):
    return run(capsys, "override", entry, "--registry", reg, "--fiche", fiche, "--status", status,
               "--reason", reason, "--justification", why, "--by", by)


# -- the chain ---------------------------------------------------------------------------------------

def test_entry_hash_is_sha256_of_the_canonical_json_of_its_five_fields():
    payload = {"record": {"b": [1, 2.5, None], "a": "é\u2028«»"}, "index": {"z": True}}
    for prev in (None, "sha256:" + "ab" * 32):
        expected = hashlib.sha256(canonical_json({"id": "3-abcdef", "created_at": "2026-01-01T00:00:00.000000+00:00",
                                                  "kind": "assessment", "payload": payload,
                                                  "prev_hash": prev}).encode()).hexdigest()
        assert entry_hash("3-abcdef", "2026-01-01T00:00:00.000000+00:00", "assessment", payload_bytes(payload),
                          prev) == "sha256:" + expected


def test_assess_record_appends_prints_its_id_and_the_registry_keeps_the_result_exactly(capsys, reg, tmp_path):
    out_file = tmp_path / "r.json"
    first = record(capsys, reg, PME, "--format", "json", "-o", str(out_file))
    printed = json.loads(out_file.read_text())
    entry = shown(capsys, reg, first)
    assert {"id", "created_at", "hash", "prev_hash", "record", "overrides"} <= set(entry)
    assert entry["id"] == first and entry["prev_hash"] is None and entry["overrides"] == []
    assert entry["record"] == printed                   # the §4 result exactly as recorded, words included
    assert printed["registry"] == {"entry": first, "head": None} and printed["lang"] == "fr"
    # the registry field is no decision: the digest is the one of the same assessment unrecorded
    code, out, _ = run(capsys, "assess", PME, "--format", "json", "--lang", "en")
    assert json.loads(out)["decision_digest"] == printed["decision_digest"] == decision_digest(printed)
    code, out, err = run(capsys, "audit", str(out_file))
    assert code == 0, out + err
    second = record(capsys, reg, TPE)
    assert second != first and second.startswith("2-")
    assert shown(capsys, reg, second)["record"]["registry"]["head"] == entry["hash"]
    # identical assessments: the same digest, different ids
    third = record(capsys, reg, PME)
    rows = listed(capsys, reg)
    assert [r["id"] for r in rows] == [third, second, first]          # newest first
    assert rows[0]["decision_digest"] == rows[2]["decision_digest"] and rows[0]["id"] != rows[2]["id"]
    assert {"id", "created_at", "name", "size_class", "plan", "overrides"} <= set(rows[0])
    assert (rows[2]["name"], rows[2]["size_class"], rows[2]["plan"], rows[2]["overrides"]) == \
        ("Plastiques du Titteri SARL", "PE", [1, 2, 3, 4], 0)


def test_the_default_registry_is_pnman_registry_then_pnman_home(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("PNMAN_REGISTRY", raising=False)
    monkeypatch.setenv("PNMAN_HOME", str(tmp_path / "home"))
    code, _, err = run(capsys, "assess", PME, "--record")
    assert code == 0 and str(tmp_path / "home" / "registry.sqlite3") in err
    assert (tmp_path / "home" / "registry.sqlite3").is_file()
    monkeypatch.setenv("PNMAN_REGISTRY", str(tmp_path / "env.sqlite3"))
    code, _, err = run(capsys, "assess", TPE, "--record")
    assert code == 0 and str(tmp_path / "env.sqlite3") in err
    assert len(listed(capsys, str(tmp_path / "env.sqlite3"))) == 1


def test_registry_without_record_is_refused(capsys, reg):
    code, out, err = run(capsys, "assess", PME, "--registry", reg)
    assert code == 2 and out == "" and one_clean_line(err) and "--record" in err
    assert not Path(reg).exists()


def test_list_filters(capsys, reg):
    pme, tpe, me = record(capsys, reg, PME), record(capsys, reg, TPE), record(capsys, reg, ME)
    ids = lambda *f: [r["id"] for r in listed(capsys, reg, *f)]     # noqa: E731
    assert ids("--name", "benali") == [tpe]
    assert ids("--size", "ME") == [me]
    assert ids("--fiche", "13") == [tpe]
    assert ids("--fiche", "2") == [pme]
    assert ids("--since", "2000-01-01") == [me, tpe, pme]
    assert ids("--until", "2000-01-01") == []
    assert ids("--since", "2999-01-01T10:00") == []
    code, _, err = run(capsys, "registry", "list", "--registry", reg, "--since", "yesterday")
    assert code == 2 and one_clean_line(err) and "--since" in err
    code, out, _ = run(capsys, "registry", "list", "--registry", reg)
    assert code == 0 and pme in out and "Menuiserie" in out and "Dérogations" in out
    code, out, _ = run(capsys, "registry", "list", "--registry", reg, "--lang", "en", "--name", "zzz")
    assert code == 0 and "No recorded assessment matches." in out


def test_parse_when_takes_dates_and_times_in_utc():
    assert parse_when("2025-03-01").isoformat() == "2025-03-01T00:00:00+00:00"
    assert parse_when("2025-03-01", end=True).isoformat() == "2025-03-01T23:59:59.999999+00:00"
    assert parse_when("2025-03-01T14:30+01:00").isoformat() == "2025-03-01T13:30:00+00:00"
    with pytest.raises(InputError):
        parse_when("01/03/2025")


def test_verify_and_export(capsys, reg, tmp_path):
    code, out, err = run(capsys, "registry", "verify", "--registry", reg)
    assert code == 2 and one_clean_line(err) and "no registry here" in err     # a typo is not an empty registry
    ids = [record(capsys, reg, p) for p in (PME, TPE, ME)]
    code, out, _ = run(capsys, "registry", "verify", "--registry", reg)
    assert code == 0 and "3 entrées" in out and "intact" in out
    code, out, _ = run(capsys, "registry", "verify", "--registry", reg, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["entries"] == 3 and report["first_broken"] is None
    target = tmp_path / "export.jsonl"
    code, out, err = run(capsys, "registry", "export", "--registry", reg, "-o", str(target))
    assert code == 0 and out == "" and "3" in err
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["id"] for e in lines] == ids and lines[0]["prev_hash"] is None
    previous = None
    for e in lines:     # anyone can check an export with a JSON library and SHA-256
        fields = {k: e[k] for k in ("id", "created_at", "kind", "payload", "prev_hash")}
        assert e["hash"] == "sha256:" + hashlib.sha256(canonical_json(fields).encode()).hexdigest()
        assert e["prev_hash"] == previous
        previous = e["hash"]
    assert report["head"] == previous
    assert lines[0]["payload"]["record"] == shown(capsys, reg, ids[0])["record"]
    code, out, _ = run(capsys, "registry", "export", "--registry", reg)
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ids


# -- tampering -----------------------------------------------------------------------------------------

def _sql(reg: str, *statements):
    conn = sqlite3.connect(reg)
    try:
        for statement in statements:
            conn.execute(*statement) if isinstance(statement, tuple) else conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _drop_triggers(reg):
    _sql(reg, *[f"DROP TRIGGER {t}" for t in ("entries_never_updated", "entries_never_deleted",
                                               "entries_follow_the_head")])


def test_the_triggers_refuse_update_delete_and_an_insert_out_of_the_chain(capsys, reg):
    record(capsys, reg, PME)
    for statement in ("UPDATE entries SET name = 'x'", "DELETE FROM entries",
                      "INSERT INTO entries (seq, id, created_at, kind, payload, prev_hash, hash) "
                      "VALUES (7, '7-abcdef', 'now', 'assessment', x'00', 'sha256:x', 'sha256:y')"):
        with pytest.raises(sqlite3.DatabaseError, match="pnman registry|constraint"):
            _sql(reg, statement)


def test_an_altered_past_entry_is_named_by_verify(capsys, reg):
    ids = [record(capsys, reg, p) for p in (PME, TPE, ME)]
    _drop_triggers(reg)
    conn = sqlite3.connect(reg)
    blob = conn.execute("SELECT payload FROM entries WHERE id = ?", (ids[1],)).fetchone()[0]
    conn.close()
    payload = json.loads(zlib.decompress(blob))
    payload["record"]["fiches"][12]["status"] = "eligible"      # fiche 13 made eligible after the fact
    _sql(reg, ("UPDATE entries SET payload = ? WHERE id = ?",
               (zlib.compress(canonical_json(payload).encode()), ids[1])))
    code, out, err = run(capsys, "registry", "verify", "--registry", reg)
    assert code == 1 and ids[1] in out and ids[0] not in out and "empreinte" in out
    assert "déclencheurs" in out
    code, out, _ = run(capsys, "registry", "verify", "--registry", reg, "--format", "json", "--lang", "en")
    report = json.loads(out)
    assert code == 1 and report["first_broken"]["id"] == ids[1] and report["first_broken"]["problem"] == "hash"
    assert report["checked"] == 1 and len(report["triggers_missing"]) == 3


@pytest.mark.parametrize("change, problem", [
    ("DELETE FROM entries WHERE seq = 2", "sequence"),
    ("UPDATE entries SET name = 'Autre SARL' WHERE seq = 2", "index"),
    ("UPDATE entries SET prev_hash = 'sha256:00' WHERE seq = 3", "link"),
    ("UPDATE entries SET created_at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 2", "hash"),
])
def test_every_kind_of_change_breaks_the_chain_at_the_entry_changed(capsys, reg, change, problem):
    ids = [record(capsys, reg, p) for p in (PME, TPE, ME)]
    _drop_triggers(reg)
    _sql(reg, change)
    code, out, _ = run(capsys, "registry", "verify", "--registry", reg, "--format", "json")
    broken = json.loads(out)["first_broken"]
    assert code == 1 and broken["problem"] == problem
    assert broken["id"] == (ids[2] if problem in ("sequence", "link") else ids[1])


def test_dropped_triggers_alone_fail_verify(capsys, reg):
    record(capsys, reg, PME)
    _drop_triggers(reg)
    code, out, _ = run(capsys, "registry", "verify", "--registry", reg, "--lang", "en")
    assert code == 1 and "triggers" in out and "intact" in out


def test_an_unknown_schema_version_or_a_foreign_file_is_refused(capsys, reg, tmp_path):
    record(capsys, reg, PME)
    _sql(reg, "PRAGMA user_version = 9")
    for argv in (("registry", "list"), ("registry", "verify"), ("assess", PME, "--record")):
        code, out, err = run(capsys, *argv, "--registry", reg)
        assert code == 2 and out == "" and one_clean_line(err) and "schema version 9" in err, argv
    other = tmp_path / "other.sqlite3"
    _sql(str(other), "CREATE TABLE t (x)")
    code, _, err = run(capsys, "registry", "list", "--registry", str(other))
    assert code == 2 and one_clean_line(err) and "not a pnman registry" in err
    text = tmp_path / "text.sqlite3"
    text.write_text("hello " * 200)
    code, _, err = run(capsys, "registry", "show", "1-abcdef", "--registry", str(text))
    assert code == 2 and one_clean_line(err) and "not a pnman registry" in err
    assert text.read_text() == "hello " * 200


# -- overrides -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    ({"entry": "9-abcdef"}, "no entry"),
    ({"entry": "nonsense"}, "no entry"),
    ({"fiche": "99"}, "no fiche 99"),
    ({"why": "trop court"}, "at least 20"),
    ({"why": "   " + "x" * 19 + "   "}, "at least 20"),
    ({"by": ""}, "name"),
    ({"by": "   "}, "name"),
    ({"reason": "because"}, "unknown reason code"),
    ({"fiche": "2", "status": "conditional"}, "already conditional"),
])
def test_override_refusals_exit_2_with_one_line(capsys, reg, args, needle):
    entry = record(capsys, reg, PME)
    kwargs = dict(args)
    target = kwargs.pop("entry", entry)
    code, out, err = override(capsys, reg, target, **kwargs)
    assert code == 2 and out == "" and one_clean_line(err) and needle in err
    assert listed(capsys, reg)[0]["overrides"] == 0


def test_override_of_an_override_entry_or_with_a_bad_status_is_refused(capsys, reg):
    entry = record(capsys, reg, PME)
    code, out, _ = override(capsys, reg, entry)
    over_id = ENTRY_ID.findall(out)[0]
    assert code == 0 and over_id.startswith("2-")
    code, _, err = override(capsys, reg, over_id, fiche="4")
    assert code == 2 and one_clean_line(err) and "not an assessment" in err
    with pytest.raises(SystemExit) as exit_:
        override(capsys, reg, entry, status="unknown")
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_an_override_is_kept_apart_and_audit_still_replays_the_engine(capsys, reg, tmp_path):
    entry = record(capsys, reg, PME)
    before = shown(capsys, reg, entry)
    code, out, err = override(capsys, reg, entry, fiche="2", status="eligible")
    assert code == 0 and "conditionnelle" in out and "éligible" in out, err
    code, out, err = override(capsys, reg, entry, fiche="1", status="ineligible", reason="agency_decision",
                              why="Le comité du programme a refusé la préparation GPAO", by="B. Comité")
    assert code == 0, err
    after = shown(capsys, reg, entry)
    assert after["record"] == before["record"] and after["hash"] == before["hash"]     # never edited
    overrides = after["overrides"]
    assert [(o["fiche"], o["status"], o["engine_status"], o["reason"], o["by"]) for o in overrides] == [
        (2, "eligible", "conditional", "document_evidence", "A. Diag"),
        (1, "ineligible", "eligible", "agency_decision", "B. Comité")]
    assert all({"fiche", "status", "reason", "justification", "by", "at"} <= set(o) for o in overrides)
    assert overrides[0]["justification"] == WHY
    assert {s["fiche"]: s["status"] for s in after["record"]["fiches"]}[2] == "conditional"
    # the plan recomputed with the overrides, apart and labelled
    replanned = after["with_overrides"]
    assert replanned["statuses"] == [{"fiche": 1, "engine": "eligible", "override": "ineligible"},
                                     {"fiche": 2, "engine": "conditional", "override": "eligible"}]
    planned = [s.get("fiche") for s in replanned["plan"] if s["kind"] == "fiche"]
    assert 1 not in planned and 2 in planned
    assert next(s for s in replanned["plan"] if s.get("fiche") == 2)["because"][-1] == "override.f2.eligible"
    assert "not the engine's decision" in replanned["note"]
    # audit replays the engine's decision from the recorded record
    path = tmp_path / "recorded.json"
    path.write_text(json.dumps(after["record"], ensure_ascii=False))
    code, out, err = run(capsys, "audit", str(path))
    assert code == 0, out + err
    assert listed(capsys, reg)[0]["overrides"] == 2
    code, out, _ = run(capsys, "registry", "verify", "--registry", reg)
    assert code == 0 and "3 entrées" in out


def test_show_text_markdown_html_put_the_engine_and_the_override_side_by_side(capsys, reg, tmp_path):
    entry = record(capsys, reg, PME)
    assert override(capsys, reg, entry, fiche="2", status="eligible")[0] == 0
    code, text, _ = run(capsys, "registry", "show", entry, "--registry", reg)
    assert code == 0
    engine_part, overrides_part = text.split("Dérogations (1)")
    assert "Plastiques du Titteri" in engine_part and f"Registre : entrée {entry}" in engine_part
    assert "moteur conditionnelle → dérogation éligible" in overrides_part and "A. Diag" in overrides_part
    assert WHY in overrides_part and "Pièce justificative" in overrides_part and "UTC" in overrides_part
    assert "ce n’est pas la décision du moteur" in overrides_part and "éligible par dérogation" in overrides_part
    code, text, _ = run(capsys, "registry", "show", entry, "--registry", reg, "--lang", "en")
    assert "engine conditional → override eligible" in text and "Supporting document" in text
    for fmt, needle in (("markdown", "| Statut du moteur |"), ("html", "<th>Statut du moteur</th>")):
        target = tmp_path / f"show.{fmt}"
        code, out, _ = run(capsys, "registry", "show", entry, "--registry", reg, "--format", fmt, "-o", str(target))
        content = target.read_text()
        assert code == 0 and out == "" and needle in content and "A. Diag" in content
        assert f"entrée {entry}" in content
    html = (tmp_path / "show.html").read_text()
    assert html.rstrip().endswith("</html>") and html.count("<body") == 1


def test_show_escapes_what_people_typed_in_html(capsys, reg, tmp_path):
    entry = record(capsys, reg, PME)
    assert override(capsys, reg, entry, by="<script>alert(1)</script>",
                    why="<img src=x onerror=alert(1)> est justifié ici")[0] == 0
    target = tmp_path / "s.html"
    run(capsys, "registry", "show", entry, "--registry", reg, "--format", "html", "-o", str(target))
    html = target.read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;" in html


def test_override_summary_gives_a_rate_per_fiche(capsys, reg):
    a, b = record(capsys, reg, PME), record(capsys, reg, PME)
    record(capsys, reg, TPE)
    assert override(capsys, reg, a, fiche="2")[0] == 0
    assert override(capsys, reg, b, fiche="2")[0] == 0
    assert override(capsys, reg, b, fiche="2", status="conditional", reason="other")[0] == 0     # back to the engine
    code, out, _ = run(capsys, "registry", "list", "--registry", reg, "--summary", "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 0 and summary["assessments"] == 3
    assert summary["fiches"] == [{"fiche": 2, "overridden": 1, "rate": pytest.approx(1 / 3),
                                  "reasons": {"document_evidence": 1}, "changes": {"conditional>eligible": 1}}]
    code, out, _ = run(capsys, "registry", "list", "--registry", reg, "--summary")
    assert "fiche 2 (Acquisition GPAO) : 1 sur 3 (33 %)" in out


def test_override_summary_is_typed_and_its_words_name_each_change(capsys, reg, kb):
    from pnman.interview.render.l10n import Words
    from pnman.records.registry import Registry
    a, b, c = record(capsys, reg, PME), record(capsys, reg, PME), record(capsys, reg, PME)
    assert override(capsys, reg, a, fiche="2")[0] == 0                                  # conditional → eligible
    assert override(capsys, reg, b, fiche="2")[0] == 0
    assert override(capsys, reg, c, fiche="2", status="ineligible", reason="other")[0] == 0   # conditional → ineligible
    with Registry.open(reg, create=False) as opened:
        summary = opened.override_summary()
    assert summary.assessments == 3 and [f.fiche for f in summary.fiches] == [2]
    assert summary.fiches[0].changes == (("conditional", "eligible", 2), ("conditional", "ineligible", 1))
    assert summary.fiches[0].reasons == (("document_evidence", 2), ("other", 1))
    assert summary.as_dict()["fiches"][0]["changes"] == {"conditional>eligible": 2, "conditional>ineligible": 1}
    for lang in ("fr", "en", "ar"):
        w = Words(lang, kb)
        code, out, _ = run(capsys, "registry", "list", "--registry", reg, "--summary", "--lang", lang)
        assert code == 0
        for engine, status, count in summary.fiches[0].changes:
            assert w("registry.summary.change", engine=w.status(engine), override=w.status(status), count=count) in out


def test_verify_says_the_chain_in_the_same_sentences_on_the_cli_and_the_web(capsys, reg, kb):
    from pnman.interview.render.l10n import Words
    from pnman.interview.render.registry import verify_lines
    from pnman.records.registry import Registry
    record(capsys, reg, PME)
    with Registry.open(reg, create=False) as opened:
        report, path = opened.verify(), opened.path
    for lang in ("fr", "en", "ar"):
        code, out, _ = run(capsys, "registry", "verify", "--registry", reg, "--lang", lang)
        lines = verify_lines(report, path, Words(lang, kb))
        assert code == 0 and lines and out.splitlines()[:len(lines)] == lines


# -- the engine's replan ----------------------------------------------------------------------------------

def test_replan_forces_statuses_the_way_the_contract_defines_them(kb):
    from pnman.engine.overrides import replan
    rec = record_of({"name": "x", **_pme()}, kb)
    engine_plan = [s.get("fiche") or s["id"] for s in rec["plan"]]
    assert "action.maintenance_procedures" in engine_plan        # fiche 4 is conditional: actions first
    eligible = replan(rec, {4: "eligible"}, kb)
    steps = [s.get("fiche") or s["id"] for s in eligible["plan"]]
    assert 4 in steps and not any(str(s).startswith("action.") and 4 in next(
        x for x in eligible["plan"] if x.get("id") == s)["needed_by"] for s in steps if isinstance(s, str))
    closed = replan(rec, {2: "ineligible"}, kb)
    assert 2 not in [s.get("fiche") for s in closed["plan"]]
    assert "goal_ineligible" in {w["code"] for w in closed["warnings"]}
    opened = replan(record_of({**_pme(), "industrial": False}, kb), {2: "conditional"}, kb)
    assert 2 in [s.get("fiche") for s in opened["plan"]]
    assert rec == record_of({"name": "x", **_pme()}, kb)        # the engine's record is untouched
    with pytest.raises(InputError):
        replan(rec, {2: "unknown"}, kb)


def _pme() -> dict:
    from pnman.knowledge.yamlio import load_knowledge_yaml
    data = dict(load_knowledge_yaml(PME))
    data.pop("name", None)
    return data


# -- the other faces ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, needle", [("text", "Registre : entrée"), ("markdown", "Registre : entrée"),
                                         ("html", "Registre : entrée")])
def test_every_report_shows_the_entry_and_the_chain_head(capsys, reg, fmt, needle):
    record(capsys, reg, TPE)
    code, out, err = run(capsys, "assess", PME, "--record", "--registry", reg, "--format", fmt)
    head = listed(capsys, reg)[1]["hash"]
    assert code == 0 and needle in out and head in out.replace("\n", "")
    code, out, _ = run(capsys, "assess", PME, "--format", fmt)
    assert "Registre" not in out


def test_headless_interview_records_its_result(capsys, reg, tmp_path):
    transcript = tmp_path / "t.json"
    code, _, err = run(capsys, "interview", "--answers", str(EXAMPLES / "pe-internet.yaml"), "--transcript",
                       str(transcript), "--record", "--registry", reg)
    assert code == 0, err
    result = json.loads(transcript.read_text())["result"]
    assert ENTRY_ID.search(err).group(1) == result["registry"]["entry"]
    assert shown(capsys, reg, result["registry"]["entry"])["record"] == result


def test_batch_record_appends_every_assessed_row(capsys, reg, tmp_path):
    portfolio = tmp_path / "p.jsonl"
    rows = [{"name": f"E{i}", "employees": 5 + i, "goals": ["network"]} for i in range(6)] + [{"employees": "x"}]
    portfolio.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "batch", str(portfolio), "-o", str(out), "--record", "--registry", reg)
    assert code == 0 and "6 entrées" in err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [bool(x.get("entry")) for x in lines] == [True] * 6 + [False]
    entries = listed(capsys, reg)
    assert sorted(e["id"] for e in entries) == sorted(x["entry"] for x in lines[:6])
    assert shown(capsys, reg, lines[0]["entry"])["record"]["profile"]["name"] == "E0"


# -- the API a web server uses -----------------------------------------------------------------------------

def test_one_registry_shared_by_threads(tmp_path, kb):
    rec = record_of({"employees": 12, "goals": ["network"]}, kb, lang="fr")
    registry = Registry.open(tmp_path / "r.sqlite3")
    errors = []

    def append():
        try:
            for _ in range(15):
                registry.append_assessment(rec)
                registry.head()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=append) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and registry.count() == 60 and registry.verify().ok
    assert len({s.id for s in registry.list()}) == 60
    registry.close()


def test_store_seam(tmp_path, kb):
    from pnman.records.store import NullStore, RecordStore
    rec = record_of({"employees": 12}, kb, lang="en")
    for store in (NullStore(), RegistryStore(tmp_path / "r.sqlite3")):
        assert isinstance(store, RecordStore)
        ref = store.save(rec)
        assert ref.record["decision_digest"] == rec["decision_digest"]
    assert ref.record["registry"] == {"entry": ref.id, "head": None} and ref.head is None
    with pytest.raises(InputError, match="assessment record"):
        Registry.open(tmp_path / "r.sqlite3").append_assessment({"schema": "nope"})


def test_override_reasons_are_checked_knowledge_with_wording_in_every_catalogue(tmp_path):
    from pnman.knowledge.locales import available_languages, catalogue
    from pnman.knowledge.overrides import override_reasons
    codes = override_reasons()
    assert {"guide_misprint", "document_evidence", "agency_decision"} <= set(codes)
    for lang in ("fr", "en"):      # other catalogues: the parity test of test_architecture.py
        assert lang in available_languages()
        assert [c for c in codes if not catalogue(lang).has(f"override.reasons.{c}")] == [], lang
    for text, needle in (("reasons: []\n", "non-empty"), ("reasons:\n  - code: Bad Code\n", "lower-case"),
                         ("reasons:\n  - code: a\n  - code: a\n", "twice"), ("other: 1\n", "one key"),
                         ("reasons:\n  - code: a\n    label: x\n", "nothing else")):
        folder = tmp_path / str(abs(hash(text)))
        folder.mkdir()
        (folder / "overrides.yaml").write_text(text)
        with pytest.raises(KnowledgeError, match=needle):
            override_reasons(folder)


def test_a_record_prepared_before_another_writer_came_first_is_built_again(tmp_path, kb, monkeypatch):
    import pnman.records.append as module
    rec = record_of({"employees": 12, "goals": ["network"]}, kb, lang="fr")
    path = tmp_path / "r.sqlite3"
    mine, other = Registry.open(path), Registry.open(path)
    begin = module.begin_immediate

    def another_writer_first(conn):     # between the preparation and the lock
        monkeypatch.setattr(module, "begin_immediate", begin)
        other.append_assessment(rec)
        begin(conn)
    monkeypatch.setattr(module, "begin_immediate", another_writer_first)
    entry = mine.append_assessment(rec)
    first = other.list()[-1]
    assert entry.seq == 2 and entry.id.startswith("2-") and entry.prev_hash == first.hash
    assert entry.record["registry"] == {"entry": entry.id, "head": first.hash}
    assert mine.verify().ok and mine.count() == 2
    mine.close(), other.close()


def test_show_still_shows_a_record_whose_plan_cannot_be_recomputed(capsys, tmp_path, kb):
    rec = copy.deepcopy(record_of({"employees": 12, "goals": ["network"]}, kb, lang="fr"))     # a record is a
    rec["profile"]["employees"] = "douze"          # value (engine/record.py): edited in a copy; say, an older key
    path = str(tmp_path / "r.sqlite3")
    with Registry.open(path) as registry:
        entry = registry.append_assessment(rec)
        registry.add_override(entry.id, fiche=16, status="ineligible", reason="other", justification=WHY, by="X")
    code, out, err = run(capsys, "registry", "show", entry.id, "--registry", path, "--format", "json")
    assert code == 0 and "error" in json.loads(out)["with_overrides"], err
    code, out, err = run(capsys, "registry", "show", entry.id, "--registry", path, "--lang", "en")
    assert code == 0 and "The plan cannot be recomputed" in out


def test_insert_or_replace_cannot_swap_an_entry(capsys, reg):
    first = record(capsys, reg, PME)
    record(capsys, reg, TPE)
    conn = sqlite3.connect(reg)
    seq, head = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    with pytest.raises(sqlite3.DatabaseError, match="must follow"):
        conn.execute("INSERT OR REPLACE INTO entries (seq, id, created_at, kind, payload, prev_hash, hash) "
                     "VALUES (?, ?, 'now', 'assessment', x'00', ?, 'sha256:new')", (seq + 1, first, head))
    conn.close()
    assert [e["id"] for e in listed(capsys, reg)][-1] == first
