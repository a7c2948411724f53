"""Who is asking, and may they (contract §11): one small dependency for every protected route.

    @router.get("/dashboard")
    def dashboard(request: Request, account: Account = Depends(need(*READERS))): ...

`need(*roles)` gives the signed-in account (web sign-in cookie, or an API token sent as
`Authorization: Bearer …`) when its role is one of `roles`; otherwise it raises `SignIn`
(no one signed in: a page answers 303 to /login?next=…, JSON 401) or `Forbidden` (a role
without the right: 403), which app.py turns into answers. A server with no account serves
its loopback visitors only, as a local admin: the operator on the machine itself.
"""
from __future__ import annotations

import getpass
from datetime import timedelta

from fastapi import Request

from ..accounts.store import ADMIN, AUDITOR, DIAGNOSTICIAN, Account, AccountStore

READERS = (DIAGNOSTICIAN, AUDITOR, ADMIN)          # the list, entries, explanations, downloads
OVERRIDERS = (DIAGNOSTICIAN, ADMIN)                # overrides
VERIFIERS = (AUDITOR, ADMIN)                       # replays, the chain's verification, the export
LOGIN_COOKIE = "pnman_login"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class SignIn(Exception):
    """Nobody is signed in (or the session expired)."""


class Forbidden(Exception):
    """Signed in, with a role that may not do this; or no account exists and the visitor is
    not on this machine."""

    def __init__(self, account: Account | None):
        super().__init__(account.name if account else "")
        self.account = account


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _local_operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def is_loopback(request: Request) -> bool:
    """A visitor on this machine, not relayed by a proxy (a proxy on this machine relays
    anyone: its X-Forwarded-For says so, trusted or not)."""
    return client_address(request) in LOOPBACK and "x-forwarded-for" not in request.headers


def account_of(request: Request) -> Account | None:
    """The account behind this request, or None; computed once per request."""
    if hasattr(request.state, "account"):
        return request.state.account
    store: AccountStore = request.app.state.accounts
    account = None
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        account = store.by_token(auth[7:].strip())
    elif request.cookies.get(LOGIN_COOKIE):
        account = store.session(request.cookies[LOGIN_COOKIE], timedelta(minutes=request.app.state.idle_minutes))
    if account is None and not store.has_accounts() and is_loopback(request):
        account = Account(_local_operator(), ADMIN, local=True)
    request.state.account = account
    return account


def need(*roles: str):
    """A FastAPI dependency: the account, when its role is one of `roles`."""
    def dependency(request: Request) -> Account:
        account = account_of(request)
        if account is None:
            store: AccountStore = request.app.state.accounts
            if not store.has_accounts():
                raise Forbidden(None)
            raise SignIn()
        if account.role not in roles:
            raise Forbidden(account)
        return account
    return dependency


def wants_json(request: Request) -> bool:
    """A program (JSON API, a token, no HTML accepted) rather than a person's browser (whose
    htmx requests accept anything: they are pages too)."""
    if request.url.path.startswith("/api/") or "authorization" in request.headers:
        return True
    return "text/html" not in request.headers.get("accept", "") and "hx-request" not in request.headers
