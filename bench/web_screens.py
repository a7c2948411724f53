"""Screenshots of every screen of `pnman serve`, at 1280 px and 390 px (a phone), in each
language, to look at before calling a page done.

    .venv/bin/python bench/web_screens.py [OUT_DIR] [--lang fr,en,ar]

Needs Debian's chromium and the playwright package (the test extra). The server is
started on 127.0.0.1 on a free port and stopped at the end.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import CHROMIUM, answer, answer_all, chromium, start_interview  # noqa: E402
from pnman.knowledge.locales import available_languages  # noqa: E402
from web_server import serving  # noqa: E402


def shoot(page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print(out / f"{name}.png")


def screens(browser, base: str, out: Path, lang: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    tag = f"{lang}-{width}"
    page.goto(f"{base}/?lang={lang}")
    shoot(page, out, f"{tag}-1-home")
    start_interview(page, base, lang)
    shoot(page, out, f"{tag}-2-first-question")
    answer(page, "employees", "sept")
    shoot(page, out, f"{tag}-3-error-kept")
    seen = set()

    def look(page, key: str) -> None:
        if key in ("goals", "uses_it", "workstations_needed") and key not in seen:
            shoot(page, out, f"{tag}-4-question-{key}")
            seen.add(key)
    session = answer_all(page, before=look, limit=40)
    shoot(page, out, f"{tag}-6-result")
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
    if CHROMIUM is None:
        print("no chromium on this machine (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as home, serving(Path(home) / "sessions") as base, chromium() as browser:
        for lang in args.lang.split(","):
            for width in (1280, 390):
                screens(browser, base, out, lang, width)
    return 0


if __name__ == "__main__":
    sys.exit(main())
