"""Screenshots of every screen of `pnman serve`, at 1280 px and 390 px (a phone), in each
language, to look at before calling a page done.

    .venv/bin/python bench/web_screens.py [OUT_DIR] [--lang fr,en,ar]

Needs Debian's chromium and the playwright package (the test extra). The server is
started on 127.0.0.1 on a free port and stopped at the end.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402

from pnman.knowledge.locales import available_languages  # noqa: E402
from web_server import serving  # noqa: E402

PROFILE = yaml.safe_load((ROOT / "examples/tpe-demarrage.yaml").read_text(encoding="utf-8"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def shoot(page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print(out / f"{name}.png")


def answer(page, key: str, value) -> None:
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


def screens(browser, base: str, out: Path, lang: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    tag = f"{lang}-{width}"
    page.goto(f"{base}/?lang={lang}")
    shoot(page, out, f"{tag}-1-home")
    page.fill("#company", PROFILE["name"])
    page.click("button.primary")
    page.wait_for_selector("form.question")
    shoot(page, out, f"{tag}-2-first-question")
    answer(page, "employees", "sept")
    shoot(page, out, f"{tag}-3-error-kept")
    seen = set()
    for _ in range(40):
        field = page.query_selector("form.question input[name=key]")
        if field is None:
            break
        key = field.get_attribute("value")
        if key in ("goals", "uses_it", "workstations_needed") and key not in seen:
            shoot(page, out, f"{tag}-4-question-{key}")
            seen.add(key)
        answer(page, key, PROFILE.get(key))
    page.wait_for_selector("ol.plan")
    shoot(page, out, f"{tag}-6-result")
    session = page.url.rsplit("/", 2)[-2]
    page.goto(f"{base}/i/{session}/review")
    shoot(page, out, f"{tag}-5-review")
    page.goto(f"{base}/i/{session}/fiche/13")
    shoot(page, out, f"{tag}-7-fiche-13")
    page.goto(f"{base}/assessments?lang={lang}")
    shoot(page, out, f"{tag}-8-assessments")
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="screens")
    parser.add_argument("--lang", default=",".join(available_languages()))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium on this machine (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as home, serving(Path(home) / "sessions") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for lang in args.lang.split(","):
            for width in (1280, 390):
                screens(browser, base, out, lang, width)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
