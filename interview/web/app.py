"""`pnman serve`'s application: the pages, the JSON API, the static files, the guards."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from pnman.engine import __version__
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.locales import available_languages

from ..render.safe import plain
from pnman.knowledge.errors import Phrase

from . import api, pages
from ..accounts.store import AccountStore, default_path as default_accounts
from .lane import LANE, Lane
from .links import StripRoot, normal_root, under_root
from .roles import Forbidden, SignIn, wants_json
from .security import GuardMiddleware, allowed_hosts
from .service import Interviews
from .sessions import SessionStore, StoreUnavailable, web_sessions_dir

STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class Settings:
    kb: Knowledge
    lang: str = "fr"
    host: str = "127.0.0.1"
    port: int = 8000
    sessions: Path | None = None                     # default: <PNMAN_HOME>/web-sessions
    registry: Path | None = None                     # the registry the assessments page reads
    record: bool = False                             # finished interviews are appended to `registry`
    check_host: bool = True
    allow_hosts: tuple[str, ...] = ()                # more names the Host header may give (--allow-host)
    languages: tuple[str, ...] = field(default_factory=available_languages)
    accounts: Path | None = None                     # default: accounts.default_path() (--accounts)
    idle_minutes: int = 30                           # a sign-in session ends after this long unused
    root_path: str = ""                              # the sub-path behind a reverse proxy (--root-path)


def templates() -> Environment:
    env = Environment(loader=PackageLoader("pnman.interview.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["plain"] = plain
    return env


class PnmanApp(FastAPI):
    """FastAPI, with the interview API's busy routes on a lane of their own (lane.py) when
    one is set: the same endpoints, guard and handlers, without the routing's cost."""

    lane: Lane | None = None

    async def __call__(self, scope, receive, send):
        lane = self.lane
        if lane is not None and scope["type"] == "http" and not self._telemetry_on(scope):
            found = lane.match(scope)
            if found is not None:
                scope["app"] = self
                scope[LANE] = found
                await lane.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _telemetry_on(self, scope) -> bool:
        """FastAPI's own test for tracing a request (traced requests keep the plain way); a
        FastAPI without it is taken as tracing."""
        telemetry = getattr(self, "_native_telemetry", None)
        return telemetry is None or "fastapi.telemetry" in scope or telemetry.enabled()


def create_app(settings: Settings) -> FastAPI:
    store = SessionStore(settings.sessions or web_sessions_dir())
    recorder = None
    if settings.record and settings.registry is not None:
        from pnman.records.store import RegistryStore
        recorder = RegistryStore(settings.registry)
    service = Interviews(settings.kb, store, recorder=recorder)
    app = PnmanApp(title="pnman", version=__version__,
                  description="PNMAN guide n°4 (TIC): eligibility, action plan, guided interview (contract §7).",
                  docs_url=None, redoc_url=None)
    app.state.service = service
    app.state.accounts = AccountStore(settings.accounts or default_accounts())
    app.state.idle_minutes = settings.idle_minutes
    root = normal_root(settings.root_path)
    app.add_exception_handler(api.ApiError, api.api_error_response)

    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        from pnman.knowledge.loader import schema_problem
        detail = Phrase("line", where=Phrase("key", name=where), detail=schema_problem(first))
        return JSONResponse({"error": Phrase("api.request", detail=detail).words(api.messages())}, status_code=400)
    app.add_exception_handler(RequestValidationError, invalid)
    env = templates()

    def message_page(request, status: int, title: str, text: str) -> HTMLResponse:
        lang = request.query_params.get("lang")
        w = service.words(lang if lang in settings.languages else settings.lang)
        page = env.get_template("message.html").render(
            t=w, w=w, lang=w.lang, dir=w.cat.direction, csrf="", csrf_field="", languages=[], path="/",
            translation=w.cat.translation, title=w(title), message=w(text))
        return HTMLResponse(under_root(page, root), status_code=status)

    async def unavailable(request, exc: StoreUnavailable):
        """A full disk or a broken sessions database: said plainly (503), in JSON to programs."""
        api.log.warning("pnman serve: sessions unavailable: %s", exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": Phrase("api.unavailable").words(api.messages())}, status_code=503)
        return message_page(request, 503, "web.unavailable.title", "web.unavailable.text")
    app.add_exception_handler(StoreUnavailable, unavailable)

    async def sign_in_first(request, _exc: SignIn):
        """No one signed in: a program is told 401, a person is sent to the sign-in page."""
        if wants_json(request):
            return JSONResponse({"error": Phrase("api.sign_in").words(api.messages())},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{root}/login?{urlencode({'next': asked})}", status_code=303)

    async def forbidden(request, exc: Forbidden):
        if exc.account is None:          # no account on this server, and the visitor is not on this machine
            if wants_json(request):
                return JSONResponse({"error": Phrase("api.no_account").words(api.messages())}, status_code=403)
            return message_page(request, 403, "web.login.no_account_title", "web.login.no_account")
        if wants_json(request):
            return JSONResponse({"error": Phrase("api.forbidden", name=exc.account.name, role=exc.account.role)
                                 .words(api.messages())}, status_code=403)
        return message_page(request, 403, "web.login.forbidden_title", "web.login.forbidden")
    app.add_exception_handler(SignIn, sign_in_first)
    app.add_exception_handler(Forbidden, forbidden)
    api_routes = api.router(service, settings.lang, settings.languages)
    app.include_router(api_routes)
    app.include_router(pages.router(service, env, settings.lang, settings.languages, settings.registry, root))

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request):
        """The API's page: every operation of the OpenAPI document, as plain HTML (no script,
        readable by keyboard and screen reader; /openapi.json is the document itself), in
        the language of ?lang=, else the server's."""
        lang = request.query_params.get("lang")
        w = service.words(lang if lang in settings.languages else settings.lang)
        page = env.get_template("docs.html").render(
            t=w, w=w, lang=w.lang, dir=w.cat.direction, csrf="", csrf_field="", path="/docs",
            languages=[(code, service.words(code)("meta.name")) for code in settings.languages],
            translation=w.cat.translation, **api_page(app.openapi(), w))
        return HTMLResponse(under_root(page, root))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    hosts = allowed_hosts(settings.host, settings.port, settings.allow_hosts) if settings.check_host else None
    app.add_middleware(GuardMiddleware, hosts=hosts)
    if root:
        app.add_middleware(StripRoot, root=root)
    else:                   # behind a proxy's sub-path, every request takes the plain way
        app.lane = Lane(app, api_routes, hosts)
    return app


SETTINGS_ENV = "PNMAN_SERVE_SETTINGS"


def from_environment() -> FastAPI:
    """The application of one worker of `pnman serve --workers N`: uvicorn starts each worker
    in a process of its own, which builds the app from the settings serve put in the
    environment (all workers share the data folder: sessions, accounts, registry)."""
    import json
    import os

    from pnman.knowledge.editions import knowledge_for
    data = json.loads(os.environ[SETTINGS_ENV])
    paths = {key: Path(data[key]) if data.get(key) else None for key in ("sessions", "registry", "accounts")}
    return create_app(Settings(kb=knowledge_for(data.get("edition")), lang=data["lang"], host=data["host"],
                               port=data["port"], record=data["record"], allow_hosts=tuple(data["allow_hosts"]),
                               idle_minutes=data["idle_minutes"], root_path=data["root_path"], **paths))


def api_page(spec: dict, w) -> dict:
    """What the API page shows of an OpenAPI document: its operations in order, each with
    its summary, request body schema and responses, in the words of `w` (the catalogue's
    `docs.operations."METHOD /path"` and `docs.status.<code>`; a refused request is answered
    400, not pydantic's 422)."""
    import json
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            body = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
            codes = ["400" if code == "422" else code for code in (op.get("responses") or {})]
            operations.append({
                "method": method.upper(), "path": path,
                "summary": w.cat.get(f"docs.operations.{method.upper()} {path}", op.get("summary", "")),
                "body": json.dumps(body, indent=2, ensure_ascii=False) if body else "",
                "responses": [(code, w.cat.get(f"docs.status.{code}", "")) for code in codes]})
    return {"version": spec.get("info", {}).get("version", ""), "openapi": spec.get("openapi", ""),
            "operations": operations}
