"""Small refusals (issue 21): an edition figure too large for any arithmetic is exit 2 naming
the file and the key, never an internal error; -o never writes over a read-only file; a
company name's `&` is escaped in Markdown."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import one_clean_line, run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "tpe-demarrage.yaml"


@pytest.mark.parametrize("figure", ["1000000000000000000000000000000", "-1000000000000000000000000000000"])
@pytest.mark.parametrize("argv", [["fiches", "16", "--edition", "big"], ["validate"], ["validate", "--format", "json"],
                                  ["assess", str(EXAMPLE), "--edition", "big"]])
def test_an_edition_figure_of_ten_to_the_thirty_is_refused_naming_file_and_key(tmp_path, figure, argv):
    """exit 2 with one line naming file and key — `validate` too (a value out of range is bad
    input, contract: exit 2), though it lists an edition it cannot apply among its findings
    (exit 1) — never an internal error (exit 70)."""
    editions = tmp_path / "editions"
    editions.mkdir()
    (editions / "big.yaml").write_text(
        "edition: big\ndate_in_force: 2020-01-01\nreference: test\nchanges:\n"
        f"  - {{fiche: 16, size: PE, line: 1, amount_da_ht: {figure}}}\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pnman", *argv], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PNMAN_EDITIONS=str(editions)), timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert not proc.stdout          # refused before any report, validate's included
    assert one_clean_line(proc.stderr) and "big.yaml" in proc.stderr and "changes.0.amount_da_ht" in proc.stderr


@pytest.mark.parametrize("argv", [["assess", str(EXAMPLE)], ["assess", str(EXAMPLE), "--format", "markdown"],
                                  ["assess", str(EXAMPLE), "--format", "html"]])
def test_o_onto_a_read_only_file_is_refused_and_leaves_it(capsys, tmp_path, argv):
    out = tmp_path / "out.txt"
    out.write_text("kept\n")
    out.chmod(0o444)
    code, _, err = run(capsys, *argv, "-o", str(out))
    assert code == 2 and one_clean_line(err) and str(out) in err and "read-only" in err
    assert out.read_text() == "kept\n" and stat.S_IMODE(out.stat().st_mode) == 0o444
    out.chmod(0o644)
    code, _, err = run(capsys, *argv, "-o", str(out))
    assert code == 0, err
    assert out.read_text() != "kept\n"


def test_batch_o_onto_a_read_only_file_is_refused(capsys, tmp_path):
    source = tmp_path / "p.jsonl"
    source.write_text('{"employees": 12, "goals": ["network"]}\n')
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n")
    out.chmod(0o444)
    code, _, err = run(capsys, "batch", str(source), "-o", str(out))
    assert code == 2 and one_clean_line(err) and "read-only" in err and out.read_text() == "kept\n"


def test_a_company_name_with_ampersands_and_entities_reads_as_written_in_markdown(capsys, tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text('employees: 12\ngoals: [network]\nname: "Benali & Fils &lt;SARL&gt; &amp; Cie"\n')
    code, out, err = run(capsys, "assess", str(profile), "--format", "markdown")
    assert code == 0, err
    assert "Benali &amp; Fils &amp;lt;SARL&amp;gt; &amp;amp; Cie" in out
    from markdown_it import MarkdownIt
    html = MarkdownIt().render(out)
    assert "Benali &amp; Fils &amp;lt;SARL&amp;gt; &amp;amp; Cie" in html       # the text as typed, once rendered
