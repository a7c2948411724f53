"""The command-line options of guide editions (contract §9): `--edition` on the commands that
decide or show figures, and the `pnman impact` subcommand. Kept apart from main.py so the
parser stays light (nothing here imports the engine)."""
from __future__ import annotations

import argparse

EDITION_HELP = ("the guide edition whose figures apply: an id from knowledge/editions/ (or $PNMAN_EDITIONS), "
                "'base' for the printed guide; default: the latest in force")
IMPACT_DESCRIPTION = """\
Assess a portfolio (the 'pnman batch' formats: CSV, JSONL or .xlsx) under two editions of the
guide and list, for each company, what changes: the statuses of the fiches, the steps
of its plan and their budgets, the totals. Then a summary: companies affected, and the
investment ceilings and coaching days of all the plans, before and after.

--format json writes one JSON object per company (input order; "changed": false for a
company nothing changes for), then {"summary": {...}}; text lists the companies
affected and the summary. An OUTPUT ending in .xlsx is an Excel workbook: one row per
company, the summary on its own sheet. A bad row is reported with its row number and the others go on.
"""


def add_edition_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--edition", metavar="ID", help=EDITION_HELP)


def add_impact_parser(sub, langs: tuple[str, ...]) -> None:
    p = sub.add_parser("impact", help="what a change of guide edition does to a portfolio (CSV, JSONL or .xlsx)",
                       description=IMPACT_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="PORTFOLIO", help="a .csv, .jsonl or .xlsx portfolio, as for 'pnman batch'")
    p.add_argument("--from", dest="from_edition", required=True, metavar="ID",
                   help="the edition before ('base': the printed guide)")
    p.add_argument("--to", dest="to_edition", required=True, metavar="ID", help="the edition after")
    p.add_argument("-o", "--output", help="write there (atomically) instead of standard output")
    p.add_argument("--format", choices=("text", "json"), default=None,
                   help="default: json when OUTPUT ends in .json or .jsonl, an Excel workbook when it ends in .xlsx, "
                        "else text")
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes (default: %(default)s; capped as for 'pnman batch')")
    p.add_argument("--lang", choices=langs, default=langs[0])
