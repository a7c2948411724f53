"""`pnman serve`: the interview and the results in a browser, and the JSON API (contract §7)."""
from __future__ import annotations

import errno
import json
import os
import socket
import sys

from pnman.knowledge.errors import InputError, Phrase, os_reason
from pnman.knowledge.locales import catalogue


def _check_address(host: str, port: int) -> None:
    """Say plainly when the address cannot be served, before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(Phrase("serve.in_use", port=port, host=host), key="--port") from None
            raise InputError(Phrase("serve.cannot_listen", host=host, port=port, reason=os_reason(exc)),
                             key="--host") from None


def _registry(args):
    """The registry file the server reads (--registry) and appends to (--record), checked
    before the server starts; None when neither is asked for."""
    if not args.record and not args.registry:
        return None
    from pnman.records.registry import Registry, default_path
    path = default_path(args.registry)
    if args.record or path.exists():
        Registry.open(path, create=bool(args.record)).close()   # a foreign or newer file: said now, exit 2
    if path.exists():
        _index(path, args)
    return path


def _index(path, args) -> None:
    """A registry made before the dashboard's index: the index is built now, its progress
    shown, not in the dashboard's first request (appends keep it since). Read-only storage
    cannot hold it: the dashboard then counts what it can and says what it leaves out."""
    from pnman.knowledge import default as default_kb
    from pnman.records.registry import Registry

    from ..render.l10n import Words
    from .registry_commands import build_index
    with Registry.open(path, create=False) as registry:
        if not registry.index_lag():
            return
        w = Words(args.lang, default_kb())
        try:
            build_index(registry, w)
        except InputError as exc:
            print(w("registry.index.not_built", error=str(exc)), file=sys.stderr, flush=True)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _accounts(args):
    """The accounts file; with none in it, serving beyond this machine is refused (exit 2):
    the assessments would be open to the network."""
    from ..accounts.store import AccountStore, default_path
    store = AccountStore(default_path(args.accounts))
    if args.host not in LOOPBACK and not store.has_accounts():
        raise InputError(Phrase("serve.no_account", path=store.path, host=args.host), key="--host")
    return store.path


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from ..web.app import SETTINGS_ENV, Settings, create_app
        from ..web.links import normal_root
    except ImportError as exc:   # pragma: no cover - the web stack is a dependency
        raise InputError(Phrase("serve.missing", name=exc.name)) from None
    from pnman.knowledge.editions import knowledge_for
    if not 0 < args.port < 65536:
        raise InputError(Phrase("serve.port", found=args.port), key="--port")
    kb = knowledge_for(getattr(args, "edition", None))
    registry = _registry(args)
    accounts = _accounts(args)
    if not 1 <= args.workers <= 64:
        raise InputError(Phrase("serve.workers", found=args.workers), key="--workers")
    if args.idle_timeout < 1:
        raise InputError(Phrase("serve.minutes", found=args.idle_timeout), key="--idle-timeout")
    root = normal_root(args.root_path)
    if root and not all(part and all(c.isalnum() or c in "-_.~" for c in part) for part in root[1:].split("/")):
        raise InputError(Phrase("serve.root_path", found=repr(args.root_path)), key="--root-path")
    _check_address(args.host, args.port)
    settings = Settings(kb=kb, lang=args.lang, host=args.host, port=args.port, registry=registry,
                        record=bool(args.record), allow_hosts=tuple(args.allow_host), accounts=accounts,
                        idle_minutes=args.idle_timeout, root_path=root)
    app = create_app(settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    cat = catalogue(getattr(args, "messages", None) or "en")
    print("pnman serve: " + Phrase("serve.listening", url=f"http://{shown}:{args.port}{root}/", docs=f"{root}/docs")
          .words(cat), file=sys.stderr, flush=True)
    if registry is not None:
        state = Phrase("serve.recorded" if args.record else "serve.read_only")
        print("pnman serve: " + Phrase("serve.registry", path=registry, state=state).words(cat), file=sys.stderr,
              flush=True)
    proxies = args.forwarded_allow_ips      # None: no proxy header is trusted (uvicorn would trust 127.0.0.1)
    options = dict(host=args.host, port=args.port, log_level="warning", access_log=False, timeout_keep_alive=30,
                   proxy_headers=bool(proxies), forwarded_allow_ips=proxies or "")
    if args.workers > 1:
        os.environ[SETTINGS_ENV] = json.dumps({
            "edition": getattr(args, "edition", None), "lang": args.lang, "host": args.host, "port": args.port,
            "record": bool(args.record), "allow_hosts": list(args.allow_host), "idle_minutes": args.idle_timeout,
            "root_path": root, "registry": str(registry) if registry else None, "accounts": str(accounts),
            "sessions": None})
        uvicorn.run("pnman.interview.web.app:from_environment", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0
