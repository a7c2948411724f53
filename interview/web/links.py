"""Every link of a page under the sub-path a reverse proxy serves it from (--root-path).

The templates write the server's own paths (`/i/…`, `/static/…`); behind a proxy at
`/pnman` the browser must ask for `/pnman/i/…`. One rewrite of the attributes that hold
a URL, at the end, keeps the templates free of the prefix."""
from __future__ import annotations

import re

_URL_ATTRIBUTE = re.compile(r'''(\s(?:href|src|action|formaction|hx-get|hx-post|hx-push-url)=")/(?!/)''')


def under_root(html: str, root: str) -> str:
    return _URL_ATTRIBUTE.sub(lambda m: f"{m.group(1)}{root}/", html) if root else html


def normal_root(value: str | None) -> str:
    """'/pnman/' → '/pnman'; '' or '/' → '' (no prefix)."""
    value = (value or "").strip().rstrip("/")
    if value and not value.startswith("/"):
        value = "/" + value
    return value


class StripRoot:
    """Takes the sub-path off a request's path when the proxy passed it on (nginx's
    `proxy_pass` without a trailing path does), so the routes see `/i/…` either way."""

    def __init__(self, app, root: str):
        self.app = app
        self.root = root

    async def __call__(self, scope, receive, send):
        if self.root and scope["type"] == "http":
            path = scope["path"]
            if path == self.root or path.startswith(self.root + "/"):
                scope = dict(scope, path=path[len(self.root):] or "/", root_path=scope.get("root_path", "") + self.root)
        await self.app(scope, receive, send)
