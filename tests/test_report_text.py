"""What the text and Markdown reports tell a person about each plan step."""
from __future__ import annotations

from pathlib import Path

from interview.cli.main import main

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "me-erp.yaml")


def test_each_fiche_step_says_its_type_status_and_flags(capsys):
    assert main(["assess", EXAMPLE]) == 0
    cells = [line.split("│")[2] for line in capsys.readouterr().out.splitlines() if line.count("│") == 4]
    out = " ".join(" ".join(cells).split())               # the table wraps long cells over lines
    assert "[investissement, conditionnelle]" in out
    assert "[accompagnement, conditionnelle, facultative]" in out   # fiche 9: no prerequisite of 10 calls for it


def test_markdown_says_it_too(capsys):
    assert main(["assess", EXAMPLE, "--format", "markdown", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "(investment, conditional)" in out and "(coaching, conditional, optional)" in out
