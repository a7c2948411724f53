"""The words of the command line's help (`cli.*` in the catalogues: a command's line, its
description, each option's help), in the messages' language that main() chose."""
from __future__ import annotations

from pnman.knowledge.locales import catalogue

current = None          # the Catalogue of the messages' language (main sets it before building the parser)


def say(key: str) -> str:
    """The help text `cli.<key>` (argparse fills its %(default)s)."""
    return (current or catalogue("en")).text(f"cli.{key}")
