"""`pnman serve`: the interview and the results in a browser, and the JSON API (contract §7)."""
from __future__ import annotations

import errno
import socket
import sys

from knowledge.errors import InputError


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


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from ..web.app import Settings, create_app
    except ImportError as exc:   # pragma: no cover - the web stack is a dependency
        raise InputError(f"the web server needs {exc.name}: pip install pnman") from None
    from knowledge import default as default_kb
    if not 0 < args.port < 65536:
        raise InputError(f"expected a port from 1 to 65535, found {args.port}", key="--port")
    _check_address(args.host, args.port)
    settings = Settings(kb=default_kb(), lang=args.lang, host=args.host, port=args.port)
    app = create_app(settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"pnman serve: http://{shown}:{args.port}/  (API: /docs; Ctrl-C to stop)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, timeout_keep_alive=30)
    return 0
