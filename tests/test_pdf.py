"""The PDF report: `pnman assess P --format pdf -o FILE` (the optional extra pnman[pdf]).

Read back with poppler's pdftotext and pdfinfo: the company, the plan's fiches and the
totals are there, in French and in Arabic, on A4 pages with a footer; Arabic is drawn
with the bundled Amiri font; nothing is fetched from outside the package; without
WeasyPrint the command stops with one line naming the extra.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import one_clean_line, record_of, run
from pnman.interview.render.l10n import Words
from pnman.knowledge.locales import available_languages
from pnman.knowledge.profile import check_profile

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pme-industrielle.yaml"
COMPANY = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["name"]
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _weasyprint_works() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


needs_weasyprint = pytest.mark.skipif(not _weasyprint_works(),
                                      reason="WeasyPrint or its pango libraries are not installed (pip install '.[pdf]')")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                                   reason="poppler-utils (pdftotext, pdfinfo) is not installed")
needs_arabic = pytest.mark.skipif("ar" not in available_languages(), reason="no Arabic catalogue (knowledge/locales/ar.yaml)")


def _cli_pdf(tmp_path_factory, lang: str) -> Path:
    from pnman.interview.cli.main import main
    out = tmp_path_factory.mktemp(f"pdf-{lang}") / "rapport.pdf"
    assert main(["assess", str(EXAMPLE), "--format", "pdf", "--lang", lang, "-o", str(out)]) == 0
    return out


def _text(pdf: Path) -> str:
    """pdftotext's reading, without the direction marks it adds around Arabic runs and with
    every kind of space as a space."""
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60)
    return re.sub("[\u00a0\u202f ]+", " ", BIDI_MARKS.sub("", done.stdout))


def _info(pdf: Path) -> dict[str, str]:
    done = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=60)
    return dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)


def _plan(kb, lang: str) -> dict:
    profile = check_profile(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), kb)
    return record_of(profile, kb, lang=lang)


@pytest.fixture(scope="module")
def french_pdf(tmp_path_factory) -> Path:
    return _cli_pdf(tmp_path_factory, "fr")


@pytest.fixture(scope="module")
def arabic_pdf(tmp_path_factory) -> Path:
    return _cli_pdf(tmp_path_factory, "ar")


@needs_weasyprint
@needs_poppler
def test_french_pdf_has_the_company_the_plan_and_the_totals(kb, french_pdf):
    text, w = _text(french_pdf), Words("fr", kb)
    record = _plan(kb, "fr")
    assert COMPANY in text
    fiches = [step["fiche"] for step in record["plan"] if step["kind"] == "fiche"]
    assert fiches and all(w.fiche_title(n) in text for n in fiches)
    assert "Totaux" in text and w.da(record["totals"]["investment_da_ht"]["max"]) in text
    assert "2 400 000 DA HT" in text


@needs_weasyprint
@needs_poppler
def test_pdf_pages_are_a4_with_a_footer(kb, french_pdf):
    info = _info(french_pdf)
    pages = int(info["Pages"])
    assert "(A4)" in info["Page size"] and pages > 1
    text = _text(french_pdf)
    assert f"page 1 / {pages}" in text and f"page {pages} / {pages}" in text
    assert text.count(COMPANY) >= pages                      # the footer of every page names it


@needs_weasyprint
@needs_poppler
@needs_arabic
def test_arabic_pdf_has_the_company_the_plan_and_the_totals_in_amiri(kb, arabic_pdf):
    text, w = _text(arabic_pdf), Words("ar", kb)
    record = _plan(kb, "ar")
    assert COMPANY in text
    fiches = [step["fiche"] for step in record["plan"] if step["kind"] == "fiche"]
    # the fiches' Arabic short titles (pdftotext splits some words and doubles the lam of a lam-alef ligature)
    squash = lambda s: re.sub(r"[\sل]", "", s)  # noqa: E731
    words = [word for n in fiches for word in w.fiche_title(n).split()]     # the runs of a mixed title move apart
    assert words and all(squash(word) in squash(text) for word in words)
    assert "Préparation site web" not in text and "Préparation GPAO" not in text   # the guide's titles stay, quoted
    assert w("report.plan") in text and w("report.translation_note").split(".")[0] in text
    assert "2.400.000" in text                                   # Latin digits, Algerian grouping
    assert "(A4)" in _info(arabic_pdf)["Page size"]
    fonts = subprocess.run(["pdffonts", str(arabic_pdf)], capture_output=True, text=True, timeout=60).stdout
    assert "Amiri" in fonts                                      # the bundled font, on any machine


@needs_weasyprint
@needs_poppler
def test_the_registry_chain_head_is_in_the_footer(kb, tmp_path):
    from pnman.interview.render.pdf import assessment_pdf
    record = dict(_plan(kb, "fr"), registry={"head": "0123456789abcdef" * 4})
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(assessment_pdf(record, Words("fr", kb)))
    assert "0123456789abcdef" * 4 in _text(pdf).replace(" ", "")


@needs_weasyprint
def test_the_pdf_fetches_nothing_outside_the_package():
    from pnman.interview.render.pdf import FONTS, allowed_url, url_fetcher, weasyprint
    font = next(FONTS.glob("*.woff2"))
    assert allowed_url(font.as_uri()) and allowed_url("data:text/plain,x")
    refused = ["http://example.com/a.png", "https://example.com/a.css", "file:///etc/passwd",
               (FONTS / ".." / "html.py").resolve().as_uri(), "ftp://example.com/x"]
    assert not any(allowed_url(url) for url in refused)
    fetcher = url_fetcher(weasyprint())
    for url in refused:
        with pytest.raises(ValueError):
            fetcher(url)


def test_without_weasyprint_exit_2_names_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "weasyprint", None)          # import weasyprint now fails
    out = tmp_path / "r.pdf"
    code, stdout, err = run(capsys, "assess", str(EXAMPLE), "--format", "pdf", "-o", str(out))
    assert code == 2 and stdout == "" and one_clean_line(err)
    assert "pip install 'pnman[pdf]'" in err and not out.exists()


def test_pdf_to_a_terminal_asks_for_an_output_file(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, stdout, err = run(capsys, "assess", str(EXAMPLE), "--format", "pdf")
    assert code == 2 and stdout == "" and one_clean_line(err) and "-o FILE" in err
