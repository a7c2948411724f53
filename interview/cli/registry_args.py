"""The command-line arguments of the registry (contract §8): `--record`/`--registry` on the
commands that make records, `pnman registry list|show|verify|checkpoint|export`, `pnman keys
new` (§13) and `pnman override`.

Kept apart from main.py so that it stays one parser per command, and light: nothing here
imports the engine (the handlers are in registry_commands.py)."""
from __future__ import annotations

import argparse

REGISTRY_HELP = ("the registry file (default: $PNMAN_REGISTRY, else registry.sqlite3 in $PNMAN_HOME or the "
                 "platform's data folder)")
OVERRIDE_STATUSES = ("eligible", "conditional", "ineligible")


def add_record_options(parser: argparse.ArgumentParser) -> None:
    """--record (append the result to the registry) and --registry PATH (which one)."""
    parser.add_argument("--record", action="store_true",
                        help="also append the result to the assessment registry and print its entry id on stderr")
    parser.add_argument("--registry", metavar="PATH", help=REGISTRY_HELP + "; with --record")


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", metavar="PATH", help=REGISTRY_HELP)


def add_registry_parsers(sub, langs: tuple[str, ...], fiche_number, sizes: tuple[str, ...]) -> None:
    """`pnman registry ACTION …` (a sub-command per action) and `pnman override`."""
    p = sub.add_parser("registry", help="the assessment registry: list, show, verify, export its entries",
                       description="The append-only, hash-chained registry of recorded assessments and "
                                   "their overrides (pnman assess PROFILE --record appends to it).")
    base = type(p)

    class _ActionParser(base):
        def error(self, message):  # pragma: no cover - exercised through the CLI tests
            self.exit(2, f"pnman: {message} (see 'pnman registry {self.prog.split()[-1]} --help')\n")

    actions = p.add_subparsers(dest="action", required=True, parser_class=_ActionParser)

    a = actions.add_parser("list", help="entries, newest first: id, time, company, size, planned fiches, overrides")
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--name", help="only companies whose name contains this (any case)")
    a.add_argument("--size", choices=sizes, help="only this size class")
    a.add_argument("--fiche", type=fiche_number, help="only assessments whose plan has this fiche")
    a.add_argument("--since", help="only entries recorded at or after this date or time (UTC: 2025-03-01, "
                                   "2025-03-01T14:30)")
    a.add_argument("--until", help="only entries recorded at or before this date (the whole day) or time (UTC)")
    a.add_argument("--summary", action="store_true", help="then the override rate per fiche over the entries listed")
    a.add_argument("--lang", choices=langs, default=langs[0])
    _registry_option(a)

    a = actions.add_parser("show", help="one entry: the record as recorded, and its overrides apart")
    a.add_argument("id", help="the entry id, as 'pnman registry list' gives it (e.g. 12-3fa9c1)")
    a.add_argument("--format", choices=("text", "json", "markdown", "html"), default="text")
    a.add_argument("-o", "--output", help="write to this file instead of stdout")
    a.add_argument("--lang", choices=langs, default=None, help="default: the record's own")
    _registry_option(a)

    a = actions.add_parser("verify", help="check every entry and link of the chain (exit 1 naming the first "
                                          "broken entry); with --pub, every signed checkpoint too")
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--pub", metavar="NAME.pub", help="the agency's public key: every checkpoint must be signed by it "
                                                     "and still hold (exit 1 naming the first that does not)")
    a.add_argument("--head", metavar="HASH", help="a hash the auditor kept (a checkpoint's, a report's chain head): "
                                                  "exit 1 when no entry of the chain has it")
    a.add_argument("--lang", choices=langs, default=langs[0])
    _registry_option(a)

    a = actions.add_parser("checkpoint", help="append a checkpoint of the head, signed with the agency's key")
    a.add_argument("--key", metavar="NAME.key", required=True, help="the private key ('pnman keys new' makes it)")
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--lang", choices=langs, default=langs[0])
    _registry_option(a)

    a = actions.add_parser("export", help="every entry as JSON lines, chain hashes included")
    a.add_argument("-o", "--output", help="write to this file (atomically) instead of stdout")
    a.add_argument("--lang", choices=langs, default=langs[0])
    _registry_option(a)

    p = sub.add_parser("keys", help="the agency's signing keys for registry checkpoints")
    keys = p.add_subparsers(dest="action", required=True, parser_class=_ActionParser)
    a = keys.add_parser("new", help="write a new Ed25519 key pair: NAME.key (mode 0600) and NAME.pub")
    a.add_argument("-o", "--output", metavar="NAME.key", required=True, help="the private key file (never written over)")
    a.add_argument("--lang", choices=langs, default=langs[0])

    p = sub.add_parser("override", help="record a diagnostician's override of one fiche's status for a registry entry",
                       description="Appends an override entry; the engine's record is never changed "
                                   "('pnman audit' still replays the engine's decision).")
    p.add_argument("id", help="the assessment's entry id (pnman registry list)")
    p.add_argument("--fiche", type=fiche_number, required=True)
    p.add_argument("--status", choices=OVERRIDE_STATUSES, required=True)
    p.add_argument("--reason", required=True, help="a reason code of knowledge/overrides.yaml "
                                                   "(guide_misprint, document_evidence, agency_decision, …)")
    p.add_argument("--justification", required=True, help="why, in at least 20 characters")
    p.add_argument("--by", required=True, help="who overrides (name)")
    p.add_argument("--lang", choices=langs, default=langs[0])
    _registry_option(p)
