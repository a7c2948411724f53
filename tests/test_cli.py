"""The `pnman` command line through its contract: outputs, exit codes, one-line errors."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run
from pnman.interview.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "pme-industrielle.yaml")




def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_assess_json_follows_the_contract(capsys):
    code, out, _ = run(capsys, "assess", EXAMPLE, "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["schema"] == "pnman-assessment/1"
    assert result["knowledge_version"].startswith("kb-")
    assert result["size_class"] == "PE"
    assert [f["fiche"] for f in result["fiches"]] == list(range(1, 28))
    for entry in result["fiches"]:
        assert entry["status"] in ("eligible", "conditional", "ineligible", "unknown")
        for reason in entry["reasons"]:
            assert {"condition", "fact", "expected", "actual", "citation"} <= set(reason)
            assert {"fiche", "section", "text"} <= set(reason["citation"])
    kinds = {s["kind"] for s in result["plan"]}
    assert kinds <= {"fiche", "company_action"}
    for step in result["plan"]:
        if step["kind"] == "fiche":
            assert {"step", "fiche", "title", "type", "budget", "because"} <= set(step)
        else:
            assert {"step", "id", "label", "needed_by"} <= set(step)
    assert set(result["totals"]) == {"investment_da_ht", "coaching_days"}
    assert set(result["totals"]["investment_da_ht"]) == {"min", "max"}


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_assess_other_formats(capsys, fmt):
    code, out, _ = run(capsys, "assess", EXAMPLE, "--format", fmt)
    assert code == 0 and "Plastiques du Titteri" in out


def test_assess_writes_a_file(capsys, tmp_path):
    target = tmp_path / "r.json"
    code, out, _ = run(capsys, "assess", EXAMPLE, "--format", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["profile"]["employees"] == 32


def test_assess_reads_stdin(capsys, monkeypatch):
    code, out, _ = run(capsys, "assess", "-", "--format", "json", stdin="employees: 12\ngoals: [network]\n",
                       monkeypatch=monkeypatch)
    assert code == 0 and json.loads(out)["size_class"] == "PE"


@pytest.mark.parametrize("text, needles", [
    ("employees: 12\nit_manger: true\n", ["it_manger", "did you mean 'it_manager'"]),
    ("employees: 12\nuses_it: 'peut-être'\n", ["uses_it", "true or false"]),
    ("employees: twelve\n", ["employees", "whole number"]),
    ("employees: 12.5\n", ["employees", "whole number"]),
    ("employees: true\n", ["employees", "whole number"]),
    ("employees: -3\n", ["employees", "whole number"]),
    ("employees: 12\ngoals: [websit]\n", ["goals", "did you mean 'website'"]),
    ("employees: 12\nrecommendations: [tic]\n", ["recommendations", "tic_coaching"]),
    ("employees: 12\nfiches: [28]\n", ["fiches", "1 to 27"]),
    ("industrial: true\n", ["employees", "required"]),
    ("- a\n- b\n", ["top level must be a mapping"]),
    ("employees: 12\nemployees: 13\n", ["duplicate key 'employees'"]),
    ("employees: [1, 2\n", ["invalid YAML"]),
    ("a: &a [1]\nb: *a\n", ["aliases"]),
    ("", ["is empty"]),
])
def test_bad_profiles_exit_2_with_one_clear_line(capsys, tmp_path, text, needles):
    path = write(tmp_path, "p.yaml", text)
    code, out, err = run(capsys, "assess", path)
    assert code == 2 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "p.yaml" in err
    for needle in needles:
        assert needle in err


def test_missing_file_and_bad_json(capsys, tmp_path):
    code, _, err = run(capsys, "assess", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such profile" in err
    path = write(tmp_path, "p.json", '{"employees": 12,}')
    code, _, err = run(capsys, "assess", path)
    assert code == 2 and "invalid JSON" in err


def test_binary_and_non_utf8(capsys, tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02employees: 3")
    assert run(capsys, "assess", str(binary))[0] == 2
    latin = tmp_path / "l.yaml"
    latin.write_bytes("name: Société\nemployees: 12\n".encode("latin-1"))
    code, _, err = run(capsys, "assess", str(latin))
    assert code == 2 and "not UTF-8" in err


def test_bom_is_accepted(capsys, tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffemployees: 12\n".encode("utf-8"))
    assert run(capsys, "assess", str(path))[0] == 0


def test_check_lists_every_condition_with_citations(capsys):
    code, out, _ = run(capsys, "check", EXAMPLE, "--fiche", "2")
    assert code == 0
    assert "Cahier des charges GPAO : non ; attendu : oui" in out and "« Existence d’un cahier des charges GPAO »" in out
    assert "f2.prerequisite.specs_gpao" not in out                  # ids only under --verbose
    code, out, _ = run(capsys, "check", EXAMPLE, "--fiche", "2", "--verbose")
    assert code == 0 and "f2.prerequisite.specs_gpao" in out
    code, out, _ = run(capsys, "check", EXAMPLE, "--fiche", "2", "--format", "json")
    data = json.loads(out)
    assert {c["outcome"] for c in data["conditions"]} <= {"met", "failed", "unknown"}
    assert len(data["conditions"]) == 14   # 4 population + 8 prerequisites + 2 general


def test_bad_fiche_number_exits_2(capsys):
    code, _, err = run(capsys, "check", EXAMPLE, "--fiche", "28")
    assert code == 2 and "expected a fiche number from 1 to 27, found 28" in err
    with pytest.raises(SystemExit) as exc:
        main(["check", EXAMPLE, "--fiche", "x"])
    assert exc.value.code == 2


def test_fiches_browse(capsys):
    code, out, _ = run(capsys, "fiches")
    assert code == 0 and "Équipement de démarrage" in out
    code, out, _ = run(capsys, "fiches", "13", "--size", "ME")
    assert "900 000 DA HT" in out and "1 850 000 DA HT" in out and "TPE :" not in out
    code, out, _ = run(capsys, "fiches", "--format", "json")
    assert len(json.loads(out)) == 27
    code, out, _ = run(capsys, "fiches", "2", "--format", "json", "--size", "TPE")
    assert list(json.loads(out)["budget"]["by_size"]) == ["TPE"]


def test_graph_formats(capsys):
    code, out, _ = run(capsys, "graph", "--format", "dot")
    assert code == 0 and out.startswith("digraph") and '"fiche:16" -> "fact:local_network"' in out
    code, out, _ = run(capsys, "graph", EXAMPLE, "--format", "mermaid")
    assert code == 0 and out.startswith("flowchart LR")


def test_validate_passes(capsys):
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "total_mismatch" in out and "1 850 000" in out


def test_console_script_cold_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pnman", "assess", EXAMPLE, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema"] == "pnman-assessment/1"


def test_headless_interview_writes_a_transcript(capsys, tmp_path):
    out = tmp_path / "t.json"
    code, _, err = run(capsys, "interview", "--answers", EXAMPLE, "--transcript", str(out))
    assert code == 0 and "questions" in err
    transcript = json.loads(out.read_text(encoding="utf-8"))
    assert [a["key"] for a in transcript["asked"]][:3] == ["employees", "goals", "fiches"]
    assert all({"key", "question", "answer"} <= set(a) for a in transcript["asked"])
    assert transcript["result"]["schema"] == "pnman-assessment/1"
    code, _, err = run(capsys, "interview", "--answers", EXAMPLE)
    assert code == 2 and "--transcript" in err


def test_graph_svg_of_a_plan(capsys, tmp_path):
    import shutil
    target = tmp_path / "plan.svg"
    code, _, err = run(capsys, "graph", str(ROOT / "examples" / "tpe-demarrage.yaml"), "--format", "svg",
                       "-o", str(target))
    if shutil.which("dot") is None:
        assert code == 2 and "Graphviz" in err
    else:
        assert code == 0 and target.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_plan_graph_ranks_parallel_steps(capsys):
    code, out, _ = run(capsys, "graph", str(ROOT / "examples" / "pme-industrielle.yaml"), "--format", "dot")
    assert code == 0 and "rank=same" in out


def test_interview_without_a_terminal_says_how_to_run_headless(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "interview")
    assert code == 2 and "--answers PROFILE --transcript" in err


def test_markup_in_a_company_name_is_shown_as_text(capsys, tmp_path):
    path = write(tmp_path, "p.yaml", 'name: "[/bold] [red]Société"\nemployees: 12\n')
    code, out, err = run(capsys, "assess", path)
    assert code == 0, err
    assert "[/bold] [red]Société" in out


@pytest.mark.slow
def test_decision_content_is_byte_identical_across_processes():
    outputs = set()
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "pnman", "assess", str(ROOT / "examples" / "me-erp.yaml"),
                               "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env={**__import__("os").environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        # the time, and the record hash that covers it, differ between runs; nothing else may
        outputs.add("\n".join(line for line in done.stdout.splitlines()
                              if '"timestamp"' not in line and '"record_hash"' not in line))
    assert len(outputs) == 1
