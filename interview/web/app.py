"""`pnman serve`'s application: the pages, the JSON API, the static files, the guards."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from pnman.engine import __version__
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.locales import available_languages

from ..render.safe import plain
from . import api, pages
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


def templates() -> Environment:
    env = Environment(loader=PackageLoader("pnman.interview.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["plain"] = plain
    return env


def create_app(settings: Settings) -> FastAPI:
    store = SessionStore(settings.sessions or web_sessions_dir())
    recorder = None
    if settings.record and settings.registry is not None:
        from pnman.records.store import RegistryStore
        recorder = RegistryStore(settings.registry)
    service = Interviews(settings.kb, store, recorder=recorder)
    app = FastAPI(title="pnman", version=__version__,
                  description="PNMAN guide n°4 (TIC): eligibility, action plan, guided interview (contract §7).",
                  docs_url=None, redoc_url=None)
    app.state.service = service
    app.add_exception_handler(api.ApiError, api.api_error_response)

    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"error": f"{api.REQUEST}: key '{where}': {first.get('msg', 'invalid')}"}, status_code=400)
    app.add_exception_handler(RequestValidationError, invalid)
    env = templates()

    async def unavailable(request, exc: StoreUnavailable):
        """A full disk or a broken sessions database: said plainly (503), in JSON to programs."""
        api.log.warning("pnman serve: sessions unavailable: %s", exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "the server cannot save interviews now (its disk is full or its "
                                          "sessions database cannot be written); try again later"}, status_code=503)
        lang = request.query_params.get("lang")
        w = service.words(lang if lang in settings.languages else settings.lang)
        page = env.get_template("message.html").render(
            t=w, w=w, lang=w.lang, dir=w.cat.direction, csrf="", csrf_field="", languages=[], path="/",
            translation=w.cat.translation, title=w("web.unavailable.title"), message=w("web.unavailable.text"))
        return HTMLResponse(page, status_code=503)
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.include_router(api.router(service, settings.lang, settings.languages))
    app.include_router(pages.router(service, env, settings.lang, settings.languages, settings.registry))

    @app.get("/docs", include_in_schema=False)
    def docs():
        """The OpenAPI page, from the package's own copy of Swagger UI (no CDN, no inline script)."""
        return HTMLResponse(env.get_template("docs.html").render())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    hosts = allowed_hosts(settings.host, settings.port, settings.allow_hosts) if settings.check_host else None
    app.add_middleware(GuardMiddleware, hosts=hosts)
    return app
