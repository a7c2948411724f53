"""Accessibility and languages in real Chromium: axe-core (vendored from npm in
tests/vendor/axe-core) finds no WCAG 2.1 A/AA violation on any page, in French, English and
Arabic, at 1280 and 390 px; no page scrolls sideways at 390 px; the language switch keeps
<html lang dir> right with JavaScript on; a keyboard-only interview needs at most two Tab
presses a question (the focus lands on the new question's field)."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from browser import CHROMIUM, PROFILE, answer_all, chromium, current_key as _key, start_interview  # noqa: E402

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's)")]

from web_server import serving  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests/vendor/axe-core/axe.min.js"
DIRECTION = {"fr": "ltr", "en": "ltr", "ar": "rtl"}


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("sessions")) as base:
        yield base


def _finished_session(browser, base: str, lang: str) -> str:
    page = browser.new_page()
    start_interview(page, base, lang)
    session = answer_all(page)
    page.close()
    return session


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def test_axe_core_is_vendored_with_its_licence():
    folder = AXE.parent
    assert AXE.stat().st_size > 100_000 and (folder / "LICENSE").read_text().startswith("Mozilla Public License")
    assert "axe-core" in (folder / "VENDORED.md").read_text()


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_every_page_passes_axe_and_fits_a_phone(browser, server, lang):
    session = _finished_session(browser, server, lang)
    pages = {"home": f"/?lang={lang}", "question": f"/i/{session}/edit/employees",
             "review": f"/i/{session}/review", "result": f"/i/{session}/result",
             "explanation": f"/i/{session}/fiche/13", "assessments": f"/assessments?lang={lang}",
             "missing": f"/i/nosuchsession?lang={lang}", "api": f"/docs?lang={lang}", "report": f"/i/{session}/report.html",
             "dashboard": f"/dashboard?lang={lang}"}
    found = {}
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 850}, bypass_csp=True)
        page = context.new_page()
        for name, path in pages.items():
            if name == "report":        # a download: its page is shown as a browser opens the saved file
                page.set_content(context.request.get(server + path).text())
            else:
                page.goto(server + path)
            violations = _axe(page)
            if violations:
                found[f"{name}@{width}"] = violations
            wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if width == 390 and wide > 0:
                found[f"{name}@{width} scrolls sideways"] = wide
            if name != "report":
                assert page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]") \
                    == [lang, DIRECTION[lang]], name
        context.close()
    assert found == {}


@pytest.mark.parametrize("switch", [("fr", "ar"), ("ar", "fr"), ("en", "ar")])
def test_the_language_switch_keeps_lang_and_dir_right(browser, server, switch):
    before, after = switch
    page = browser.new_page()
    page.goto(f"{server}/?lang={before}")
    page.fill("#company", "Société X")
    page.click("button.primary")
    page.wait_for_selector("form.question")
    for path in ("", "/review"):
        url = page.url.split("/i/")[0] + "/i/" + page.url.split("/i/")[1].split("/")[0] + path
        page.goto(url)
        assert page.evaluate("() => document.documentElement.lang") in (before, after)
        current = page.evaluate("() => document.documentElement.lang")
        target = after if current == before else before
        page.click(f"header button[lang={target}]")
        page.wait_for_function(f"() => document.documentElement.lang === '{target}'", timeout=10_000)
        assert page.evaluate("() => document.documentElement.dir") == DIRECTION[target]
    page.close()


def test_choosing_another_language_on_the_home_page_lays_out_the_question_for_it(browser, server):
    page = browser.new_page()
    page.goto(f"{server}/?lang=fr")
    page.fill("#company", "Société X")
    page.check("input[name=lang][value=ar]")
    page.click("button.primary")
    page.wait_for_selector("form.question")
    assert page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    page.close()


def test_a_keyboard_only_interview_needs_at_most_two_tabs_a_question(browser, server):
    """After each answer the focus is on the new question's field: type (or arrow to a
    choice, Space to tick) and Enter. The first field of the page is two Tab presses away at
    most; a skip link leads past the top bar."""
    page = browser.new_page()
    page.goto(f"{server}/?lang=fr")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#main"    # the skip link
    page.fill("#company", PROFILE["name"])
    page.keyboard.press("Enter")
    page.wait_for_selector("form.question")
    tabs, questions = 0, 0
    for _ in range(60):
        key = _key(page)
        if key is None:
            break
        questions += 1
        page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<i id=\"stale\"></i>')")
        value = PROFILE.get(key)
        focused = page.evaluate("() => document.activeElement.name || document.activeElement.tagName")
        assert focused == "value", (key, focused)           # the field itself, not <body>
        kind = page.evaluate("() => document.activeElement.type")
        if value is None:
            for _ in range(6):                              # Tab to « Je ne sais pas »
                page.keyboard.press("Tab")
                tabs += 1
                if page.evaluate("() => document.activeElement.value") == "unknown":
                    break
            page.keyboard.press("Enter")
        elif kind == "radio":
            wanted = "true" if value else "false"
            while page.evaluate("() => document.activeElement.value") != wanted:
                page.keyboard.press("ArrowDown")
            page.keyboard.press("Space")
            page.keyboard.press("Enter")
        elif kind == "checkbox":
            boxes = page.evaluate("() => [...document.querySelectorAll('input[name=value]')].map(b => b.value)")
            for index, box in enumerate(boxes):
                if box in [str(v) for v in value]:
                    page.keyboard.press("Space")
                if index < len(boxes) - 1 and any(str(v) in boxes[index + 1:] for v in value):
                    page.keyboard.press("Tab")
                    tabs += 1
            page.keyboard.press("Enter")
        else:
            page.keyboard.type(str(value))
            page.keyboard.press("Enter")
        page.wait_for_selector("#stale", state="detached", timeout=10_000)
        # pnman.js moves the focus once htmx has settled the new page, a few ms after the swap
        page.wait_for_function("() => document.activeElement && document.activeElement !== document.body",
                               timeout=10_000)
    page.wait_for_selector("ol.plan")
    assert questions >= 5 and tabs <= 2 * questions, (tabs, questions)
    page.close()


def _finished_by_api(base: str, lang: str, profile: dict) -> str:
    """An interview answered from a profile through the JSON API: its session id."""
    import httpx2 as httpx
    body = httpx.post(base + "/api/interviews", json={"lang": lang}).json()
    session, step = body["id"], body["next"]
    while step:
        body = httpx.post(f"{base}/api/interviews/{session}/answers",
                          json={"key": step["key"], "value": profile.get(step["key"])}).json()
        step = body["next"]
    return session


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_result_and_report_of_every_example_fit_a_phone(browser, server, tmp_path, lang):
    """The result page and the HTML report (as a phone opens the saved file) of every shipped
    example: the widest budget ranges (fiche 27's « 250.000 دج خارج الرسوم – 2.300.000 دج خارج
    الرسوم ») wrap between their two amounts, a budget table's long words break."""
    import yaml

    from pnman.interview.cli.main import main
    page = browser.new_page(viewport={"width": 390, "height": 850})
    wide = {}
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        out = tmp_path / f"{example.stem}-{lang}.html"
        assert main(["assess", str(example), "--format", "html", "--lang", lang, "-o", str(out)]) in (0, None)
        session = _finished_by_api(server, lang, yaml.safe_load(example.read_text(encoding="utf-8")))
        for name, url in (("report", out.as_uri()), ("result", f"{server}/i/{session}/result")):
            page.goto(url)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                wide[f"{example.stem} {name}"] = overflow
    page.close()
    assert wide == {}
