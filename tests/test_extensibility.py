"""A new fiche is data only: a synthetic 28th fiche added to a copy of the knowledge is
assessed, planned, browsed, validated and asked about with no code change."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pnman.engine.facade import assess
from pnman.knowledge.guidetext import find_guide
from pnman.knowledge.loader import KNOWLEDGE_DIR, load

ROOT = Path(__file__).resolve().parent.parent
POPULATION = ("PME ayant adhéré au PNMAN et ayant élaboré un diagnostic approuvé par l’ANDPME et incluant "
              "des recommandations d’actions de coaching dans les domaines des TIC")
FICHE_28 = f"""fiche: 28
title: "Sensibilisation du personnel à la sécurité informatique (fiche d’essai)"
axis: 3
type: coaching
objectives:
  - "Sensibiliser le personnel aux risques informatiques"
expected_results:
  - "Le personnel applique les règles de sécurité"
population:
  - text: "{POPULATION}"
    requires: {{pnman_member: true, diagnostic_approved: true, recommendations: tic_coaching}}
prerequisites:
  - text: "L’existence d’un réseau informatique"
    requires: {{local_network: true}}
  - text: "Un responsable informatique interne identifié"
    requires: {{it_manager: true}}
budget:
  days:
    TPE: {{days: 3, text: "Très petite entreprise : 3 h/j"}}
    PE: {{days: 5, tolerance: 1, text: "Petite entreprise : 5 h/j ± 1 j"}}
    ME: {{days: 8, text: "Moyenne entreprise : 8 h/j"}}
"""
PROFILE = {"name": "Essai SARL", "employees": 20, "pnman_member": True, "diagnostic_approved": True,
           "general_conditions": True, "recommendations": ["tic_coaching", "tic_investment", "tic_upgrade"], "fiches": [28],
           "uses_it": True, "it_infrastructure": True, "local_network": False}


@pytest.fixture(scope="module")
def kdir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("kb") / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (target / "fiches" / "28-essai-securite.yaml").write_text(FICHE_28, encoding="utf-8")
    return target


def pnman(kdir: Path, *args: str, guide: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PNMAN_KNOWLEDGE=str(kdir), PNMAN_HOME=str(kdir.parent / "home"))
    if guide:
        env["PNMAN_GUIDE"] = str(guide)
    return subprocess.run([sys.executable, "-m", "pnman", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=180)


def test_the_engine_plans_the_new_fiche(kdir):
    kb = load(kdir)
    assert len(kb.fiches) == 28 and 28 in kb.graph.in_play([28])
    assert kb.graph.providers("local_network") == [13, 16]
    record = assess(PROFILE, kb).record()
    assert len(record["fiches"]) == 28 and record["fiches"][27]["status"] == "conditional"
    steps = [(s["kind"], s.get("fiche") or s["id"]) for s in record["plan"]]
    assert steps == [("company_action", "check.it_manager"), ("fiche", 16), ("fiche", 28)]
    assert record["plan"][-1]["budget"] == {"size_class": "PE", "days": 5, "tolerance": 1,
                                            "text": "Petite entreprise : 5 h/j ± 1 j"}


@pytest.mark.slow
def test_the_command_line_handles_it(kdir, tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(PROFILE), encoding="utf-8")
    done = pnman(kdir, "assess", str(profile), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [s.get("fiche") for s in json.loads(done.stdout)["plan"]][-1] == 28
    done = pnman(kdir, "assess", str(profile))
    assert done.returncode == 0 and "28 fiches" in done.stdout and "Sensibilisation du personnel" in done.stdout
    done = pnman(kdir, "fiches", "28")
    assert done.returncode == 0 and "Fiche n° 28 : Sensibilisation" in done.stdout
    done = pnman(kdir, "fiches", "--format", "json")
    assert len(json.loads(done.stdout)) == 28
    done = pnman(kdir, "check", str(profile), "--fiche", "28", "--verbose")
    assert done.returncode == 0 and "f28.prerequisite.local_network" in done.stdout
    assert pnman(kdir, "check", str(profile), "--fiche", "29").returncode == 2


@pytest.mark.skipif(find_guide() is None, reason="the guide (../shared/seed) is not available here")
def test_validate_checks_the_new_fiche(kdir, tmp_path):
    guide = tmp_path / "guide.txt"
    extra = [line.split('"')[1] for line in FICHE_28.splitlines() if line.strip().startswith(("title:", "- \"", "- text:", "TPE:", "PE:", "ME:"))]
    guide.write_text(find_guide().read_text(encoding="utf-8") + "\n" + "\n".join(extra) + "\n", encoding="utf-8")
    done = pnman(kdir, "validate", "--format", "json", guide=guide)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["ok"], report["errors"]
    assert report["checks"][0]["figures"]["fiches"] == 28
    done = pnman(kdir, "validate", "--format", "json")           # the printed guide has no such fiche
    assert done.returncode == 1 and any("fiche 28" in e for e in json.loads(done.stdout)["errors"])


def test_the_interview_asks_about_it(kdir, tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(dict(PROFILE, it_manager=True)), encoding="utf-8")
    transcript = tmp_path / "t.json"
    done = pnman(kdir, "interview", "--answers", str(profile), "--transcript", str(transcript))
    assert done.returncode == 0, done.stderr
    data = json.loads(transcript.read_text(encoding="utf-8"))
    asked = [q["key"] for q in data["asked"]]
    assert "local_network" in asked and "it_manager" in asked
    assert [s.get("fiche") for s in data["result"]["plan"]] == [16, 28]
