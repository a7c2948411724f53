"""The `pnman` command line: parse, call the engine, render. Nothing else lives here.

Exit codes (contract §1): 0 success; 1 a check/audit found a mismatch; 2 bad input.
Errors are one message on stderr naming file, key and what was expected, never a
traceback.
"""
from __future__ import annotations

import argparse
import sys

from pnman.knowledge.errors import PnmanError
from pnman.knowledge.locales import available_languages, catalogue, message_language
from pnman.knowledge.sizes import SIZE_CODES

from .edition_args import add_edition_option, add_impact_parser
from .registry_args import add_record_options, add_registry_parsers
from . import words
from .words import say
from .users_command import add_users_parser

FORMATS_ASSESS = ("text", "json", "markdown", "html")


class _Parser(argparse.ArgumentParser):
    """argparse that says what went wrong in one line, in the messages' language, and exits 2."""

    messages = None         # the Catalogue of the messages' language (main sets it)

    def error(self, message):  # pragma: no cover - exercised through the CLI tests
        command = getattr(self, "command", "pnman")       # named by _name_commands
        cat = _Parser.messages or catalogue("en")
        self.exit(2, "pnman: " + cat.text("errors.cli.usage_hint", message=message, command=command) + "\n")


def _fiche_number(text: str) -> int:
    """A whole number; whether the guide has that fiche is checked once the knowledge is loaded."""
    try:
        return int(text)
    except ValueError:
        cat = _Parser.messages or catalogue("en")
        raise argparse.ArgumentTypeError(cat.text("errors.cli.fiche_number", found=repr(text))) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pnman", description=say("description"))
    parser.add_argument("--version", action=_VersionAction, help=say("version"))
    langs = available_languages()
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("interview", help=say("interview.help"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    p.add_argument("--session", default="default", help=say("interview.session"))
    p.add_argument("--resume", action="store_true", help=say("interview.resume"))
    p.add_argument("--answers", help=say("interview.answers"))
    p.add_argument("--transcript", help=say("interview.transcript"))
    p.add_argument("--format", choices=FORMATS_ASSESS, default=None, help=say("interview.format"))
    p.add_argument("-o", "--output", help=say("interview.output"))
    add_record_options(p)
    add_edition_option(p)

    p = sub.add_parser("assess", help=say("assess.help"))
    p.add_argument("profile", help=say("assess.profile"))
    p.add_argument("--format", choices=FORMATS_ASSESS + ("pdf",), default="text", help=say("assess.format"))
    p.add_argument("-o", "--output", help=say("output_stdout"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    p.add_argument("-v", "--verbose", action="store_true", help=say("verbose"))
    add_record_options(p)
    add_edition_option(p)

    p = sub.add_parser("check", help=say("check.help"))
    p.add_argument("profile", help=say("assess.profile"))
    p.add_argument("--fiche", type=_fiche_number, required=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    p.add_argument("-v", "--verbose", action="store_true", help=say("verbose"))
    add_edition_option(p)

    p = sub.add_parser("explain", help=say("explain.help"))
    p.add_argument("result", help=say("explain.result"))
    p.add_argument("--fiche", type=_fiche_number, required=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))

    p = sub.add_parser("audit", help=say("audit.help"))
    p.add_argument("result", help=say("explain.result"))
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))

    p = sub.add_parser("fiches", help=say("fiches.help"))
    p.add_argument("number", nargs="?", type=_fiche_number)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--size", choices=SIZE_CODES)
    add_edition_option(p)
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))

    p = sub.add_parser("graph", help=say("graph.help"))
    p.add_argument("profile", nargs="?", help=say("assess.profile"))
    p.add_argument("--format", choices=("dot", "svg", "png", "mermaid"), default="dot")
    p.add_argument("-o", "--output", help=say("output_stdout"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))

    p = sub.add_parser("validate", help=say("validate.help"))
    p.add_argument("--guide", help=say("validate.guide"))
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))

    p = sub.add_parser("batch", help=say("batch.help"), description=say("batch.description"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help=say("batch.input"))
    p.add_argument("-o", "--output", required=True, help=say("batch.output"))
    p.add_argument("--jobs", type=int, default=1, help=say("batch.jobs"))
    p.add_argument("--resume", action="store_true", help=say("batch.resume"))
    p.add_argument("--full", action="store_true", help=say("batch.full"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("lang"))
    add_record_options(p)
    add_edition_option(p)

    p = sub.add_parser("serve", help=say("serve.help"))
    p.add_argument("--host", default="127.0.0.1", help=say("serve.host"))
    p.add_argument("--port", type=int, default=8000, help=say("serve.port"))
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME", help=say("serve.allow_host"))
    p.add_argument("--lang", choices=langs, default=langs[0], help=say("serve.lang"))
    p.add_argument("--record", action="store_true", help=say("serve.record"))
    p.add_argument("--registry", metavar="PATH", help=say("serve.registry"))

    p.add_argument("--accounts", metavar="PATH", help=say("serve.accounts"))
    p.add_argument("--workers", type=int, default=1, metavar="N", help=say("serve.workers"))
    p.add_argument("--idle-timeout", type=int, default=30, metavar="MINUTES", help=say("serve.idle_timeout"))
    p.add_argument("--root-path", default="", metavar="/PREFIX", help=say("serve.root_path"))
    p.add_argument("--forwarded-allow-ips", default=None, metavar="IPS", help=say("serve.forwarded_allow_ips"))
    add_edition_option(p)

    p = sub.add_parser("test", help=say("test.help"))
    p.add_argument("paths", nargs="+", metavar="PATH", help=say("test.paths"))
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=None, help=say("test.lang"))
    add_edition_option(p)

    add_registry_parsers(sub, langs, _fiche_number, SIZE_CODES)
    add_impact_parser(sub, langs)
    add_users_parser(sub)
    _name_commands(parser)
    return parser


def _name_commands(parser: argparse.ArgumentParser, command: str = "pnman") -> None:
    """Each parser knows the command it parses (« pnman users add »), named from the tree of
    sub-commands, for the hint of its refusals (never read back from argparse's `prog`)."""
    parser.command = command
    for action in parser._actions:        # argparse keeps no public list of a parser's actions
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                _name_commands(child, f"{command} {name}")


class _VersionAction(argparse.Action):
    """`--version`: the program, the knowledge and the rules engine, worked out only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from pnman import __version__
        from pnman.knowledge.fingerprint import current_version
        from pnman.rules.engines import describe
        try:
            engine = describe()
        except PnmanError as exc:
            parser.exit(2, f"pnman: {exc.render(_Parser.messages)}\n")
        print(f"pnman {__version__}\nknowledge {current_version()}\nengine {engine}")
        parser.exit(0)


# argparse's own words (usage, options, its refusals), marked for gettext in argparse, and the
# catalogue entry (argparse.*) that says each in the messages' language.
ARGPARSE_WORDS = {
    "usage: ": "usage", "options": "options", "positional arguments": "positional",
    "show this help message and exit": "help", "show program's version number and exit": "version",
    "argument %(argument_name)s: %(message)s": "argument", "expected one argument": "one_argument",
    "expected at least one argument": "at_least_one", "expected at most one argument": "at_most_one",
    "invalid %(type)s value: %(value)r": "invalid_value",
    "invalid choice: %(value)r (choose from %(choices)s)": "invalid_choice",
    "the following arguments are required: %s": "required", "unrecognized arguments: %s": "unrecognized",
    "one of the arguments %s is required": "one_of", "not allowed with argument %s": "not_allowed",
    "ambiguous option: %(option)s could match %(matches)s": "ambiguous",
}


def _speak_argparse(messages) -> None:
    """argparse words its usage and refusals through gettext (its module's `_`): give it the
    catalogue's words instead, so --help and a mistyped option read in the messages' language."""
    def words(text: str) -> str:
        key = ARGPARSE_WORDS.get(text)
        return messages.text(f"argparse.{key}") if key else text
    argparse._ = words


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    lang = message_language(arguments)         # --lang, else $PNMAN_LANG, else $LANG: before parsing
    messages = _Parser.messages = words.current = catalogue(lang)
    _speak_argparse(messages)
    parser = build_parser()
    args = parser.parse_args(arguments)
    args.messages = lang
    try:
        from . import commands
        handler = getattr(commands, f"cmd_{args.command}")
        return int(handler(args) or 0)
    except PnmanError as exc:
        print(f"pnman: {exc.render(messages)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pnman: " + messages.text("errors.cli.interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except RecursionError:
        print("pnman: " + messages.text("errors.cli.nested"), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a traceback
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        print("pnman: " + messages.text("errors.cli.internal", error=error), file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
