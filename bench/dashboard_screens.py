"""Screenshots of the dashboard (`/dashboard`) at 1280 px and 390 px in each language, over
a registry you give (bench/dashboard_bench.py --keep DIR builds one), to look at.

    .venv/bin/python bench/dashboard_screens.py REGISTRY [OUT_DIR] [--lang fr,en,ar]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import CHROMIUM, chromium  # noqa: E402
from pnman.knowledge.locales import available_languages  # noqa: E402
from web_server import serving  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry")
    parser.add_argument("out", nargs="?", default="screens")
    parser.add_argument("--lang", default=",".join(available_languages()))
    parser.add_argument("--query", default="", help="filters, e.g. since=2026-07-01&size=PE")
    args = parser.parse_args()
    os.environ.setdefault("PNMAN_EDITIONS", str(ROOT / "tests" / "editions"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if CHROMIUM is None:
        print("no chromium on this machine (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as home, \
            serving(Path(home) / "sessions", registry=Path(args.registry)) as base, chromium() as browser:
        for lang in args.lang.split(","):
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(f"{base}/dashboard?lang={lang}&{args.query}")
                path = out / f"dashboard-{lang}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path)
                page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
