"""What every response of `pnman serve` carries and every request must show.

- The `Host` header must name the address served (a DNS-rebinding page cannot talk to
  a server on 127.0.0.1 under another name): 400 otherwise.
- A strict Content-Security-Policy: scripts, styles and images from the server itself,
  nothing inline, no frames.
- Form posts carry a CSRF token equal to the `pnman_csrf` cookie (double submit): 403
  otherwise. The JSON API takes JSON bodies only, which a foreign page cannot send
  without the browser asking first (CORS preflight, never granted here).
"""
from __future__ import annotations

import hmac
import logging
import secrets
import socket
from typing import Iterable

log = logging.getLogger("pnman.web")
MAX_BODY = 1024 * 1024      # a profile or an answer is a few kB; anything bigger is refused unread
CSRF_COOKIE = "pnman_csrf"
CSRF_FIELD = "csrf_token"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> set[str]:
    """The Host headers that name this server: its address with the port, the loopback
    names when it serves loopback, this machine's names and addresses when it serves every
    interface (0.0.0.0, ::), and the names given with --allow-host."""
    wildcard = host in ("0.0.0.0", "::")
    names = set() if wildcard else {host if ":" not in host else f"[{host}]"}    # 0.0.0.0 names no server
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    if wildcard:
        machine = {socket.gethostname(), socket.getfqdn()}
        for name in list(machine):
            try:
                machine |= {info[4][0] for info in socket.getaddrinfo(name, None)}
            except OSError:
                pass
        names |= {f"[{n}]" if ":" in n else n for n in machine if n not in ("0.0.0.0", "::")}
    names |= set(extra)
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return hosts


class _TooLarge(Exception):
    pass


async def _refuse(send, status: int, code: str, **figures) -> None:
    """A JSON refusal before the app runs, worded in the server's message language."""
    import json

    from pnman.knowledge.errors import Phrase
    from pnman.knowledge.locales import catalogue, message_language
    message = Phrase(f"api.{code}", **figures).words(catalogue(message_language([])))
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())] + HEADERS})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Host check, body size and security headers, as plain ASGI (no per-request overhead
    beyond a set lookup)."""

    def __init__(self, app, hosts: Iterable[str] | None):
        self.app = app
        self.hosts = None if hosts is None else {h.lower() for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self.hosts is not None:
            host = headers.get(b"host", b"").decode("latin-1").lower()
            if host not in self.hosts:
                await _refuse(send, 400, "host", hosts=", ".join(sorted(self.hosts)))
                return
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _refuse(send, 413, "too_large", limit=MAX_BODY // 1024)
            return
        started = False
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY:          # a chunked body with no length said
                raise _TooLarge
            return message

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in present]
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except _TooLarge:
            if not started:
                await _refuse(send, 413, "too_large", limit=MAX_BODY // 1024)
        except Exception:   # noqa: BLE001 - a defect: logged, answered with the headers every answer has
            log.exception("pnman serve: %s %s failed", scope.get("method"), scope.get("path"))
            if not started:
                await _refuse(send, 500, "failed")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_ok(cookie: str | None, submitted: str | None) -> bool:
    return bool(cookie) and bool(submitted) and hmac.compare_digest(cookie, submitted)
