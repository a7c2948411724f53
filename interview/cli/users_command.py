"""`pnman users add|list|disable|passwd|token|log`: the accounts of `pnman serve` (contract §11).

What an operator types on the server; each change is also written to the accounts log,
as the server's sign-ins are (the client address of a command is « cli »)."""
from __future__ import annotations

import sys

from pnman.knowledge.errors import InputError, Phrase
from pnman.knowledge.locales import catalogue

CLI = "cli"


def add_users_parser(sub) -> None:
    from ..accounts.roles import ROLES
    from .words import say
    p = sub.add_parser("users", help=say("users.help"), description=say("users.description"))
    p.add_argument("--accounts", metavar="PATH", help=say("users.accounts"))
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help=say("users.add"))
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a = actions.add_parser("list", help=say("users.list"))
    a.add_argument("--format", choices=("text", "json"), default="text")
    a = actions.add_parser("disable", help=say("users.disable"))
    a.add_argument("name")
    a = actions.add_parser("passwd", help=say("users.passwd"))
    a.add_argument("name")
    a = actions.add_parser("token", help=say("users.token"))
    a.add_argument("name")
    a = actions.add_parser("log", help=say("users.log"))
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--last", type=int, metavar="N", help=say("users.last"))


def _operator() -> str:
    import getpass
    try:
        return f"{CLI}:{getpass.getuser()}"
    except (KeyError, OSError):
        return CLI


def cmd_users(args) -> int:
    import json     # here, not at the top: `pnman --help` builds this parser and never lists accounts

    from ..accounts.passwords import read_password
    from ..accounts.store import AccountStore, default_path
    store = AccountStore(default_path(args.accounts))
    action = args.action
    cat = catalogue(getattr(args, "messages", None) or "en")

    def say(code: str, **figures) -> str:
        return Phrase(f"users.{code}", **figures).words(cat)
    if action in ("add", "passwd"):
        if action == "passwd":
            store.existing(args.name)
        password = read_password(say("password", name=args.name), say("password_again"))
        if action == "add":
            account = store.add(args.name, args.role, password)
            store.log(_operator(), CLI, "account_added", f"{account.name} ({account.role})")
            print("pnman users: " + say("added", name=account.name, role=account.role, path=store.path), file=sys.stderr)
        else:
            store.set_password(args.name, password)
            store.log(_operator(), CLI, "password_changed", args.name)
            print("pnman users: " + say("changed", name=args.name), file=sys.stderr)
        return 0
    if action == "list":
        accounts = [a.as_dict() for a in store.list()]
        if args.format == "json":
            print(json.dumps(accounts, ensure_ascii=False, indent=2))
        elif not accounts:
            print(say("none", path=store.path))
        else:
            for a in accounts:
                state = say("active" if a["active"] else "disabled")
                print(f"{a['name']}\t{a['role']}\t{state}\t{say('created', at=a['created_at'])}\t"
                      f"{say('last_login', at=a['last_login'] or say('never'))}")
        return 0
    if action == "disable":
        store.disable(args.name)
        store.log(_operator(), CLI, "account_disabled", args.name)
        print("pnman users: " + say("disabled_now", name=args.name), file=sys.stderr)
        return 0
    if action == "token":
        token = store.new_token(args.name)
        store.log(_operator(), CLI, "token_created", args.name)
        print(token)
        print("pnman users: " + say("token"), file=sys.stderr)
        return 0
    if action == "log":
        if args.last is not None and args.last < 1:
            raise InputError(Phrase("users.last", found=args.last), key="--last")
        lines = store.log_lines(args.last)
        if args.format == "json":
            print(json.dumps([line.as_dict() for line in lines], ensure_ascii=False, indent=2))
        else:
            for line in lines:
                print(f"{line.at}\t{line.account}\t{line.address}\t{line.action}\t{line.detail}".rstrip())
        return 0
    raise InputError(f"unknown action {action!r}")          # pragma: no cover - argparse chose it
