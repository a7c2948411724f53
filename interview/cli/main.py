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
from .users_command import add_users_parser

FORMATS_ASSESS = ("text", "json", "markdown", "html")
BATCH_DESCRIPTION = """\
Assess a portfolio of companies, one row each, with worker processes.

CSV: the first line names the columns (profile keys). Columns are separated by ','
or by ';' (French Excel), as the header line shows. A list cell separates its items
with ';' in a ','-separated file (network;website) and with ',' in a ';'-separated
file (network,website). An empty cell is unknown. UTF-8 with or without a BOM, LF
or CRLF line ends. JSONL: one JSON object per line. XLSX: the first sheet of an Excel
workbook, its first row the header (as in a CSV); TRUE/FALSE, numbers and text cells
are read as values; a formula, a merged cell or a wrong value names its cell (C17).

A bad row is reported with its row number (the line where it starts) and written as
an error line; the other rows go on. Results are written, as they come, to
OUTPUT.partial, renamed OUTPUT when the run ends (an OUTPUT ending in .xlsx is then
written as a workbook: one row per company, a summary sheet, headers in --lang); the summary is printed and written
beside it (results.jsonl: results.summary.json). A killed or interrupted run leaves
OUTPUT.partial: the same command with --resume keeps its rows, assesses the rest,
and the summary counts them all. Two runs cannot write the same OUTPUT at once
(OUTPUT.lock). With -o - (or /dev/stdout) the results go to standard output, the
summary to standard error, and no summary file is written.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that says what went wrong in one line, in the messages' language, and exits 2."""

    messages = None         # the Catalogue of the messages' language (main sets it)

    def error(self, message):  # pragma: no cover - exercised through the CLI tests
        command = f"pnman {self.prog.split()[-1]}" if " " in self.prog else "pnman"
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
    parser = _Parser(prog="pnman", description="PNMAN guide n°4 (TIC): eligibility, action plan, explanations, audit.")
    parser.add_argument("--version", action=_VersionAction, help="show the program, knowledge and engine versions")
    langs = available_languages()
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("interview", help="guided questionnaire (French first), saves the session, shows the plan")
    p.add_argument("--lang", choices=langs, default=langs[0])
    p.add_argument("--session", default="default", help="session name (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the saved session")
    p.add_argument("--answers", help="headless: answer every question from this PROFILE")
    p.add_argument("--transcript", help="headless: write the questions asked and the result to this JSON file")
    p.add_argument("--format", choices=FORMATS_ASSESS, default=None,
                   help="the report's format (default: from the extension of -o, else html)")
    p.add_argument("-o", "--output",
                   help="write the report to this file at the end (atomically; - prints it); without it, "
                        "the interview offers a file. The session folder also keeps <session>.result.json "
                        "and <session>.profile.yaml (the answers, for 'pnman assess')")
    add_record_options(p)
    add_edition_option(p)

    p = sub.add_parser("assess", help="eligibility of every fiche of the guide and the ordered plan for the profile's goals")
    p.add_argument("profile", help="profile file (.yaml, .yml, .json) or - for stdin")
    p.add_argument("--format", choices=FORMATS_ASSESS + ("pdf",), default="text",
                   help="pdf: the HTML report as a PDF, with -o FILE (needs the extra: pip install 'pnman[pdf]')")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--lang", choices=langs, default=langs[0])
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also show the ids behind each reason (conditions, rules, warning codes), as in the JSON record")
    add_record_options(p)
    add_edition_option(p)

    p = sub.add_parser("check", help="one fiche: every condition met / not met / unknown, with citations")
    p.add_argument("profile")
    p.add_argument("--fiche", type=_fiche_number, required=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0])
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also show the ids behind each reason (conditions, rules, warning codes), as in the JSON record")
    add_edition_option(p)

    p = sub.add_parser("explain", help="why fiche N is (or is not) in the plan, rule by rule")
    p.add_argument("result", help="a result file written by 'pnman assess --format json -o'")
    p.add_argument("--fiche", type=_fiche_number, required=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0])

    p = sub.add_parser("audit", help="replay an assessment from its recorded inputs and compare")
    p.add_argument("result")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0])

    p = sub.add_parser("fiches", help="browse the knowledge base")
    p.add_argument("number", nargs="?", type=_fiche_number)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--size", choices=SIZE_CODES)
    add_edition_option(p)
    p.add_argument("--lang", choices=langs, default=langs[0])

    p = sub.add_parser("graph", help="the dependency graph (whole guide, or the profile's plan)")
    p.add_argument("profile", nargs="?")
    p.add_argument("--format", choices=("dot", "svg", "png", "mermaid"), default="dot")
    p.add_argument("-o", "--output")
    p.add_argument("--lang", choices=langs, default=langs[0])

    p = sub.add_parser("validate", help="check the knowledge base and report the guide's own inconsistencies")
    p.add_argument("--guide", help="path to guide-pnman-tic.txt (default: $PNMAN_GUIDE or ../shared/seed)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--lang", choices=langs, default=langs[0])

    p = sub.add_parser("batch", help="assess many profiles (CSV or JSONL) with worker processes",
                       description=BATCH_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="a .csv file (columns = profile keys, see above), a .jsonl file (one JSON profile a line) "
                        "or an .xlsx workbook (first sheet, header row as in a CSV)")
    p.add_argument("-o", "--output", required=True,
                   help="results, one JSON object per line (.jsonl), in input order, or an Excel workbook (.xlsx); "
                        "- for standard output")
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes (default: %(default)s; more than 4 per CPU, or 64, is capped with a notice)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: keep the rows already in OUTPUT.partial, assess the rest")
    p.add_argument("--full", action="store_true",
                   help="write each company's full audit record (trace, citations, digest) instead of the summary line")
    p.add_argument("--lang", choices=langs, default=langs[0])
    add_record_options(p)
    add_edition_option(p)

    p = sub.add_parser("serve", help="the interview and the results in a browser, and the JSON API (contract §7)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a name the browser may use for this server besides its address (a DNS name behind "
                        "--host 0.0.0.0, say); repeatable. Other Host headers are refused (400)")
    p.add_argument("--lang", choices=langs, default=langs[0], help="the pages' language until a visitor picks one")
    p.add_argument("--record", action="store_true",
                   help="append every finished interview's result to the assessment registry")
    p.add_argument("--registry", metavar="PATH",
                   help="the registry the assessments page reads and --record appends to (default: $PNMAN_REGISTRY, "
                        "else registry.sqlite3 in $PNMAN_HOME or the platform's data folder)")

    p.add_argument("--accounts", metavar="PATH",
                   help="the accounts file (default: $PNMAN_ACCOUNTS, else accounts.sqlite3 in $PNMAN_HOME or the "
                        "platform's data folder); with no account, only this machine sees the assessments")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes (default: %(default)s); they share the sessions, accounts and registry")
    p.add_argument("--idle-timeout", type=int, default=30, metavar="MINUTES",
                   help="a signed-in session ends after this many minutes unused (default: %(default)s)")
    p.add_argument("--root-path", default="", metavar="/PREFIX",
                   help="serve every page and link under this sub-path, behind a reverse proxy (docs/deploy.md)")
    p.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                   help="the proxy addresses (comma-separated) whose X-Forwarded-Proto and X-Forwarded-For are "
                        "trusted (default: none)")
    add_edition_option(p)

    p = sub.add_parser("test", help="run scenario case files (YAML: a profile and what it must give; docs/cases.md)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="case files, or folders of them")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_edition_option(p)

    add_registry_parsers(sub, langs, _fiche_number, SIZE_CODES)
    add_impact_parser(sub, langs)
    add_users_parser(sub)
    return parser


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
            parser.exit(2, f"pnman: {exc}\n")
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
    messages = _Parser.messages = catalogue(lang)
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
