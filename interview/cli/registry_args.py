"""The command-line arguments of the registry (contract §8): `--record`/`--registry` on the
commands that make records, `pnman registry list|show|verify|checkpoint|export`, `pnman keys
new` (§13) and `pnman override`.

Kept apart from main.py so that it stays one parser per command, and light: nothing here
imports the engine (the handlers are in registry_commands.py)."""
from __future__ import annotations

import argparse


from .words import say

OVERRIDE_STATUSES = ("eligible", "conditional", "ineligible")


def add_record_options(parser: argparse.ArgumentParser) -> None:
    """--record (append the result to the registry) and --registry PATH (which one)."""
    parser.add_argument("--record", action="store_true", help=say("record"))
    parser.add_argument("--registry", metavar="PATH", help=say("registry_record"))


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", metavar="PATH", help=say("registry_file"))


def add_registry_parsers(sub, langs: tuple[str, ...], fiche_number, sizes: tuple[str, ...]) -> None:
    """`pnman registry ACTION …` (a sub-command per action) and `pnman override`."""
    p = sub.add_parser("registry", help=say("registry.help"), description=say("registry.description"))
    actions = p.add_subparsers(dest="action", required=True)    # refusals: the CLI's parser (cli.main._Parser)

    a = actions.add_parser("list", help=say("registry.list.help"))
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--name", help=say("registry.list.name"))
    a.add_argument("--size", choices=sizes, help=say("registry.list.size"))
    a.add_argument("--fiche", type=fiche_number, help=say("registry.list.fiche"))
    a.add_argument("--since", help=say("registry.list.since"))
    a.add_argument("--until", help=say("registry.list.until"))
    a.add_argument("--summary", action="store_true", help=say("registry.list.summary"))
    a.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    _registry_option(a)

    a = actions.add_parser("show", help=say("registry.show.help"))
    a.add_argument("id", help=say("registry.show.id"))
    a.add_argument("--format", choices=("text", "json", "markdown", "html"), default="text")
    a.add_argument("-o", "--output", help=say("output_stdout"))
    a.add_argument("--lang", choices=langs, default=None, help=say("registry.show.lang"))
    _registry_option(a)

    a = actions.add_parser("verify", help=say("registry.verify.help"))
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--pub", metavar="NAME.pub", help=say("registry.verify.pub"))
    a.add_argument("--head", metavar="HASH", help=say("registry.verify.head"))
    a.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    _registry_option(a)

    a = actions.add_parser("checkpoint", help=say("registry.checkpoint.help"))
    a.add_argument("--key", metavar="NAME.key", required=True, help=say("registry.checkpoint.key"))
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    _registry_option(a)

    a = actions.add_parser("index", help=say("registry.index.help"))
    a.add_argument("--rebuild", action="store_true", help=say("registry.index.rebuild"))
    a.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    _registry_option(a)

    a = actions.add_parser("export", help=say("registry.export.help"))
    a.add_argument("-o", "--output", help=say("registry.export.output"))
    a.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    _registry_option(a)

    p = sub.add_parser("keys", help=say("keys.help"))
    keys = p.add_subparsers(dest="action", required=True)
    a = keys.add_parser("new", help=say("keys.new.help"))
    a.add_argument("-o", "--output", metavar="NAME.key", required=True, help=say("keys.new.output"))
    a.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))

    p = sub.add_parser("override", help=say("override.help"), description=say("override.description"))
    p.add_argument("id", help=say("override.id"))
    p.add_argument("--fiche", type=fiche_number, required=True)
    p.add_argument("--status", choices=OVERRIDE_STATUSES, required=True)
    p.add_argument("--reason", required=True, help=say("override.reason"))
    p.add_argument("--justification", required=True, help=say("override.justification"))
    p.add_argument("--by", required=True, help=say("override.by"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    _registry_option(p)
