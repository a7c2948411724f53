"""A person in real Chromium: clicks and key presses through the interview, back, a change on
the review screen, the result page and the report download; with JavaScript on (htmx
swaps the pages) and off (plain forms that post and redirect)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from browser import CHROMIUM, PROFILE, chromium, current_key  # noqa: E402

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's)")]

from web_server import serving  # noqa: E402



@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture()
def server(tmp_path):
    with serving(tmp_path / "sessions") as base:
        yield base


def mark(page) -> None:
    """Put a marker in the page: it is gone once the next page (or swap) has arrived."""
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<i id=\"stale\"></i>')")


def after(page) -> None:
    """Wait (bounded) until the answer's page has replaced this one."""
    page.wait_for_selector("#stale", state="detached", timeout=10_000)
    page.wait_for_selector("main")


def give(page, key: str, value) -> None:
    """Answer as a person does: click a choice, tick boxes, type and press Enter."""
    mark(page)
    if value is None:
        page.get_by_role("button", name="Je ne sais pas").click()
    elif isinstance(value, bool):
        page.get_by_label("Oui" if value else "Non", exact=True).check()
        page.get_by_role("button", name="Suivant").click()
    elif isinstance(value, list):
        for item in value:
            page.check(f"input[name=value][value='{item}']")
        page.get_by_role("button", name="Suivant").click()
    else:
        field = page.locator("input[name=value]")
        field.fill("")
        field.type(str(value))
        field.press("Enter")
    after(page)


def interview(page, base: str) -> None:
    page.goto(base + "/")
    page.fill("#company", PROFILE["name"])
    page.get_by_role("button", name="Commencer").click()
    page.wait_for_selector("form.question")
    assert current_key(page) == "employees"
    give(page, "employees", 70)                          # a slip: corrected below
    assert current_key(page) == "goals"
    mark(page)
    page.get_by_role("button", name="← Question précédente").click()
    after(page)
    assert current_key(page) == "employees"
    assert page.input_value("input[name=value]") == "70"  # the old answer is offered again
    give(page, "employees", PROFILE["employees"])
    # A number field refuses a word, keeps it, and says why next to it.
    for _ in range(40):
        key = current_key(page)
        if key is None:
            break
        if key == "workstations_needed":
            give(page, key, "quatre")
            assert page.is_visible(".error") and page.input_value("input[name=value]") == "quatre"
        give(page, key, PROFILE.get(key))
    page.wait_for_selector("ol.plan")


def review_and_change(page) -> None:
    page.get_by_role("link", name="Modifier mes réponses").click()
    page.wait_for_selector("dl.review")
    page.locator("a.change[href$='/edit/minimal_it_skills?from=review']").click()
    page.wait_for_selector("form.question")
    give(page, "minimal_it_skills", False)
    page.wait_for_selector("dl.review, ol.plan")


def check_result_and_download(page, tmp_path: Path) -> None:
    page.goto(page.url.split("/review")[0].split("/result")[0] + "/result")
    text = page.inner_text("main")
    assert PROFILE["name"] in text and "Équipement de démarrage" in text and "Totaux" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Rapport (HTML)").click()
    saved = tmp_path / "report.html"
    download.value.save_as(saved)
    assert PROFILE["name"] in saved.read_text(encoding="utf-8")
    with page.expect_download() as download:
        page.get_by_role("link", name="Enregistrement (JSON)").click()
    download.value.save_as(tmp_path / "result.json")
    record = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert record["profile"]["minimal_it_skills"] is False      # the change made on the review screen


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_person_completes_the_interview_in_chromium(browser, server, tmp_path, javascript):
    context = browser.new_context(java_script_enabled=javascript, accept_downloads=True,
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        interview(page, server)
        review_and_change(page)
        check_result_and_download(page, tmp_path)
        if javascript:
            assert page.evaluate("typeof htmx") == "object"     # the pages were swapped by htmx
            page.locator("#fiche-13 summary").click()
            page.locator("#explain-13 a").click()
            page.wait_for_selector("#explain-13 .explanation")
        # Nothing blocked by the Content-Security-Policy, nothing missing (the refused
        # answer's 400 is the only error status a person meets here).
        assert not [e for e in errors if "Content Security Policy" in e or "404" in e], errors
    finally:
        context.close()
