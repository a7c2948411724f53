"""The command-line options of guide editions (contract §9): `--edition` on the commands that
decide or show figures, and the `pnman impact` subcommand. Kept apart from main.py so the
parser stays light (nothing here imports the engine)."""
from __future__ import annotations

import argparse

from .words import say



def add_edition_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--edition", metavar="ID", help=say("edition"))


def add_impact_parser(sub, langs: tuple[str, ...]) -> None:
    p = sub.add_parser("impact", help=say("impact.help"), description=say("impact.description"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="PORTFOLIO", help=say("impact.input"))
    p.add_argument("--from", dest="from_edition", required=True, metavar="ID", help=say("impact.from"))
    p.add_argument("--to", dest="to_edition", required=True, metavar="ID", help=say("impact.to"))
    p.add_argument("-o", "--output", help=say("impact.output"))
    p.add_argument("--format", choices=("text", "json"), default=None, help=say("impact.format"))
    p.add_argument("--jobs", type=int, default=1, help=say("impact.jobs"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
