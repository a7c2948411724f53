"""Signing in and out (contract §11): the form, its checks, the session cookie, the log.

One message for a wrong name and a wrong password; 5 failures for one name or one client
address within 15 minutes and further attempts answer 429 (the store counts them, so every
server on the data folder agrees). The form carries the CSRF token every form has; the
cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..accounts.store import AccountStore, THROTTLE_WINDOW
from .roles import LOGIN_COOKIE, account_of, client_address

MAX_FIELD = 1024


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this server only (never another site)."""
    value = str(value or "")
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/assessments"
    return value


def routes(router: APIRouter, helpers) -> None:
    """GET/POST /login and POST /logout on `router`; `helpers` are the pages' render, see,
    lang_for and checked_form."""
    render, see, lang_for = helpers.render, helpers.see, helpers.lang_for

    def words(request: Request):
        return helpers.words(lang_for(request))

    def form_page(request: Request, status: int = 200, error: str | None = None, name: str = "", next_: str = ""):
        w = words(request)
        response = render(request, "login.html", w, status, error=error, username=name,
                          next=safe_next(next_ or request.query_params.get("next")))
        if status == 429:
            response.headers["Retry-After"] = str(int(THROTTLE_WINDOW.total_seconds()))
        return response

    @router.get("/login")
    def login_form(request: Request):
        return form_page(request)

    @router.post("/login")
    async def login(request: Request):
        w = words(request)
        form, refused = await helpers.checked_form(request, w)
        if refused:
            return refused
        store: AccountStore = request.app.state.accounts
        name = str(form.get("username", "")).strip()[:MAX_FIELD]
        password = str(form.get("password", ""))[:MAX_FIELD]
        next_ = safe_next(form.get("next"))
        address = client_address(request)

        def attempt():
            if store.throttled(name, address):
                store.log(name or "-", address, "login_throttled")
                return None, 429
            account = store.check(name, password, address) if name and password else None
            if account is None:
                if name or password:
                    store.log(name or "-", address, "login_failed")
                return None, 401
            store.log(account.name, address, "login")
            return store.open_session(account.name), 303
        token, status = await run_in_threadpool(attempt)
        if status == 429:
            return form_page(request, 429, w("web.login.throttled"), name, next_)
        if status == 401:
            return form_page(request, 401, w("web.login.wrong"), name, next_)
        response = see(next_)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                            path=helpers.cookie_path)
        return response

    @router.post("/logout")
    async def logout(request: Request):
        w = words(request)
        _form, refused = await helpers.checked_form(request, w)
        if refused:
            return refused
        store: AccountStore = request.app.state.accounts
        account = account_of(request)
        token = request.cookies.get(LOGIN_COOKIE)
        if token:
            await run_in_threadpool(store.close_session, token)
        if account is not None and not account.local:
            await run_in_threadpool(store.log, account.name, client_address(request), "logout")
        request.state.account = None
        response = render(request, "message.html", w, title=w("web.login.signed_out_title"),
                          message=w("web.login.signed_out"))
        response.delete_cookie(LOGIN_COOKIE, path=helpers.cookie_path)
        return response
