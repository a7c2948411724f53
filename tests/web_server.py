"""A real `pnman serve` for browser tests and benchmarks: uvicorn in a thread, on 127.0.0.1,
on a free port, stopped at the end; every wait is bounded."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import uvicorn

from pnman.interview.web.app import Settings, create_app
from pnman.knowledge import default


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(sessions: Path, lang: str = "fr", **options) -> Iterator[str]:
    port = free_port()
    options.setdefault("accounts", sessions / "accounts.sqlite3")
    app = create_app(Settings(kb=default(), lang=lang, port=port, sessions=sessions, **options))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
