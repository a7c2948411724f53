"""The HTML report: self-contained, well-formed, escaped, renderable in a real browser."""
from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import record_of
from pnman.interview.render.html import assessment_html
from pnman.interview.render.l10n import Words
from pnman.knowledge.profile import check_profile

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source", "path", "polygon",
        "ellipse", "polyline", "line", "rect", "circle", "stop"}
HOSTILE = {"name": "<script>alert('x')</script> & Fils \"SARL\"", "employees": 15, "pnman_member": True,
           "diagnostic_approved": True, "recommendations": ["tic_coaching", "tic_upgrade"], "general_conditions": True,
           "goals": ["website", "emarketing"], "it_infrastructure": True, "web_staff": True}


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]
            return
        self.stack.pop()


@pytest.fixture(scope="module")
def page(kb):
    return assessment_html(record_of(check_profile(HOSTILE, kb), kb, lang="fr"), Words("fr", kb))


def test_well_formed_and_self_contained(page):
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.problems == [] and checker.stack == []
    assert checker.external == [] and checker.scripts == 0


def test_user_strings_are_escaped(page):
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Fils &#34;SARL&#34;" in page


def test_contents(page):
    for needle in ("Site web d’entreprise", "Promotion de l’entreprise sur Internet", "Profil de l’expert",
                   "Totaux", "« L’appui du PNMAN peut prendre la forme"):
        assert needle in page
    assert ("<svg" in page) == (shutil.which("dot") is not None)


def test_english(kb):
    page = assessment_html(record_of(check_profile(HOSTILE, kb), kb, lang="en"), Words("en", kb))
    assert "Action plan" in page and 'lang="en"' in page


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed here")
def test_renders_in_headless_chromium(page, tmp_path):
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         f"--screenshot={shot}", "--window-size=1200,2000", html.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    assert shot.exists() and shot.stat().st_size > 10_000
    console_errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert console_errors == []


# -- a report a diagnostician can hand over ------------------------------------------------------
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
IDS = re.compile(r"\bf\d+\.(?:population|prerequisite|scope|general)\.|\b(?:test|status|plan|goal|request|implies)\.[a-z]"
                 r"|\baction\.[a-z]")


def _page(kb, path, lang="fr", verbose=False):
    profile = check_profile(yaml.safe_load(path.read_text(encoding="utf-8")), kb)
    return assessment_html(record_of(profile, kb, lang=lang), Words(lang, kb), verbose=verbose)


def _body(page: str) -> str:
    return page[page.index("<body>"):]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_no_ids_in_the_report_unless_verbose(kb, example, lang):
    page = _page(kb, example, lang)
    assert IDS.findall(_body(page)) == []
    assert "<title>" not in _body(page)                      # no node ids as tooltips in the graph
    assert IDS.search(_body(_page(kb, example, lang, verbose=True)))


def test_it_prints_on_a4_with_the_activities_and_unbroken_figures(kb):
    page = _page(kb, EXAMPLES[[p.stem for p in EXAMPLES].index("pme-industrielle")])
    assert "@page { size: A4" in page and "@media print" in page
    assert 'class="activities-print"' in page and "details { display: none; }" in page
    assert page.count("Élaboration d’un plan directeur d’implantation du système GPAO") == 2   # folded + printed
    assert "2\u00a0400\u00a0000\u00a0DA\u00a0HT" in page and "2 400 000 DA HT – 2 400 000" not in page
    assert ".amount, .nowrap { white-space: nowrap; }" in page
    assert "Préparation GPAO" in page and "Préparation GMAO" in page                # short titles…
    assert "« Préparation à l’introduction d’une Gestion de la Production Assistée par 0rdinateur - GPAO »" in page


def test_no_plan_says_why(kb):
    page = assessment_html(record_of(check_profile({"employees": 3, "goals": ["network"]}, kb), kb, lang="fr"),
                           Words("fr", kb))
    assert "une entreprise de 3\u00a0personnes n’entre dans aucune classe de taille du guide" in page
    assert "0 – 0" not in page


@pytest.mark.parametrize("lang, day", [("fr", "12 mars 2026"), ("en", "March 12, 2026"), ("ar", "12 مارس 2026")])
def test_the_report_words_the_day_it_was_made_and_keeps_the_exact_time(kb, lang, day):
    """A manager reads the day in words; the exact moment stays in the page for a machine."""
    record = record_of(check_profile({"employees": 12}, kb), kb, timestamp="2026-03-12T10:05:00+00:00", lang=lang)
    page = assessment_html(record, Words(lang, kb))
    assert f'<time datetime="2026-03-12T10:05:00+00:00">{day}</time>' in page
    assert "2026-03-12T10:05:00" not in page.replace('datetime="2026-03-12T10:05:00+00:00"', "")
