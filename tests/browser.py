"""Real Chromium for the browser tests and the screenshot scripts: Debian's chromium through
playwright, and a visitor who answers the interview from a profile. One place, so the tests
and bench/ drive the pages the same way."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PROFILE = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (playwright's Browser), closed at the end."""
    from playwright.sync_api import sync_playwright
    if CHROMIUM is None:
        raise RuntimeError("no chromium on this machine (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def current_key(page) -> str | None:
    """The profile key of the question on the page, None when there is none."""
    field = page.query_selector("form.question input[name=key]")
    return field.get_attribute("value") if field else None


def answer(page, key: str, value) -> None:
    """Answer the question on the page (None: « je ne sais pas ») and wait, bounded, until the
    next page has replaced it (a marker put in this one is gone)."""
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<i id=\"stale\"></i>')")
    if value is None:
        page.click("button[value=unknown]")
    elif isinstance(value, bool):
        page.check(f"input[name=value][value={'true' if value else 'false'}]")
        page.click("button[value=answer]")
    elif isinstance(value, list):
        for item in value:
            page.check(f"input[name=value][value='{item}']")
        page.click("button[value=answer]")
    else:
        page.fill("input[name=value]", str(value))
        page.click("button[value=answer]")
    page.wait_for_selector("#stale", state="detached", timeout=10_000)


def start_interview(page, base: str, lang: str, profile: dict = PROFILE) -> None:
    """Open the home page in `lang`, name the company, start: the first question is shown."""
    page.goto(f"{base}/?lang={lang}")
    page.fill("#company", profile["name"])
    page.click("button.primary")
    page.wait_for_selector("form.question")


def answer_all(page, profile: dict = PROFILE, before=None, limit: int = 60) -> str:
    """Answer every question from `profile` until the result page (`before(page, key)` is
    called on each question first); the session's id."""
    for _ in range(limit):
        key = current_key(page)
        if key is None:
            break
        if before is not None:
            before(page, key)
        answer(page, key, profile.get(key))
    page.wait_for_selector("ol.plan")
    return page.url.rstrip("/").rsplit("/", 2)[-2]
