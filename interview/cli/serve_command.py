"""`pnman serve`: the interview and the results in a browser, and the JSON API (contract §7)."""
from __future__ import annotations

import errno
import socket
import sys

from pnman.knowledge.errors import InputError


def _check_address(host: str, port: int) -> None:
    """Say plainly when the address cannot be served, before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} is already in use on {host}; choose another with --port",
                                 key="--port") from None
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror})", key="--host") from None


def _registry(args):
    """The registry file the server reads (--registry) and appends to (--record), checked
    before the server starts; None when neither is asked for."""
    if not args.record and not args.registry:
        return None
    from pnman.records.registry import Registry, default_path
    path = default_path(args.registry)
    if args.record or path.exists():
        Registry.open(path, create=bool(args.record)).close()   # a foreign or newer file: said now, exit 2
    return path


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from ..web.app import Settings, create_app
    except ImportError as exc:   # pragma: no cover - the web stack is a dependency
        raise InputError(f"the web server needs {exc.name}: pip install pnman") from None
    from pnman.knowledge.editions import knowledge_for
    if not 0 < args.port < 65536:
        raise InputError(f"expected a port from 1 to 65535, found {args.port}", key="--port")
    kb = knowledge_for(getattr(args, "edition", None))
    registry = _registry(args)
    _check_address(args.host, args.port)
    settings = Settings(kb=kb, lang=args.lang, host=args.host, port=args.port, registry=registry,
                        record=bool(args.record), allow_hosts=tuple(args.allow_host))
    app = create_app(settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"pnman serve: http://{shown}:{args.port}/  (API: /docs; Ctrl-C to stop)", file=sys.stderr, flush=True)
    if registry is not None:
        state = "finished interviews are recorded" if args.record else "read only: add --record to record"
        print(f"pnman serve: registry {registry} ({state})", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, timeout_keep_alive=30)
    return 0
