"""Stored records as they leave pnman (localised, sealed with their record hash), byte for
byte: the examples in fr, en and ar and a fixed random portfolio — what the speed work
(issue 23: fiche entries kept, the record hash from parts already serialised) must not
change. tests/test_records.py keeps the engine record and the French report of every
example and case; these add the words, the seal and the warm caches.
`python tests/sealed_records/golden.py` rewrites them — only when a change of the decision
or of the record's shape is meant (say so in the commit).

A record is made with a fixed timestamp and program version, localised and sealed as the
CLI writes it (`to_json`), in each language for the examples, in French for the portfolio."""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FOLDER = Path(__file__).resolve().parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
LANGS = ("fr", "en", "ar")
PORTFOLIO = (20, 23)        # profiles, seed: random companies of bench/portfolio.py
TIMESTAMP = "2026-01-01T00:00:00+00:00"
VERSION = "golden"
ENGINE = "golden"


def _record(profile: dict, kb, lang: str) -> str:
    from pnman.engine import record as record_module
    from pnman.engine.facade import assess
    from pnman.interview.files import to_json
    from pnman.interview.render.l10n import Words, localise
    kept, record_module.__version__ = record_module.__version__, VERSION   # not the program's release
    try:
        record = assess(profile, kb).record(timestamp=TIMESTAMP)
        record["engine"] = ENGINE       # durable or CLIPS decide alike; the record names which
        return to_json(localise(record, Words(lang, kb)))
    finally:
        record_module.__version__ = kept


def example_records(kb) -> dict[str, str]:
    """{file name: record text} for every example in every language."""
    from pnman.knowledge.profile import load_profile
    return {f"{path.stem}.{lang}.json": _record(load_profile(str(path), kb), kb, lang)
            for path in EXAMPLES for lang in LANGS}


def portfolio_records(kb) -> str:
    """The random portfolio's records, one `to_json` text after another."""
    from bench.portfolio import profiles
    from pnman.knowledge.profile import check_profile
    return "".join(_record(check_profile(p, kb), kb, "fr") for p in profiles(*PORTFOLIO))


PORTFOLIO_FILE = "portfolio.fr.json"


def main() -> None:
    from pnman.knowledge import default
    kb = default()
    texts = {**example_records(kb), PORTFOLIO_FILE: portfolio_records(kb)}
    for name, text in texts.items():
        write(name, text)


def write(name: str, text: str) -> None:
    """Gzipped (the records are 150 kB each), with no time inside: the same text, the same file."""
    (FOLDER / (name + ".gz")).write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def read(name: str) -> str:
    return gzip.decompress((FOLDER / (name + ".gz")).read_bytes()).decode("utf-8")


if __name__ == "__main__":
    main()
