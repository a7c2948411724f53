"""`GET /dashboard`, `/dashboard.json` and `/dashboard.xlsx` (contract §15): the registry's
portfolio as charts and tables, the same figures as JSON, the filtered list as a workbook.
For diagnosticians, auditors and admins (roles.READERS), as the `/assessments` pages: a
visitor not signed in is sent to /login (a program gets 401), another role gets 403."""
from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pnman.knowledge.errors import Phrase, PnmanError
from pnman.knowledge.model import SIZE_CODES

from ..accounts.store import Account
from . import dashboard
from .api import messages
from .dashboard_index import DashboardIndex
from .dashboard_view import page_context, write_entries
from .roles import READERS, need

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _editions(kb) -> tuple[str, ...]:
    from pnman.knowledge.editions import available
    return tuple(available(kb))


def add_routes(pages, render, lang_for, service, registry: Path | None) -> None:
    index = DashboardIndex(Path(registry)) if registry is not None else None

    def knowledge_for(edition: str):
        from pnman.knowledge.editions import knowledge_for as load
        return load(edition, service.kb)

    def filters_of(request: Request):
        editions = _editions(service.kb)
        return dashboard.parse_filters(request.query_params, SIZE_CODES, editions), editions

    async def figures_of(request: Request) -> tuple[dict, tuple[str, ...]]:
        """The figures the query asks for, and the editions known: what the page and the JSON
        both answer (FilterError: a bad filter; PnmanError: the registry cannot be read)."""
        filters, editions = filters_of(request)
        return await run_in_threadpool(dashboard.figures, index, filters, knowledge_for), editions

    def query_of(request: Request, lang: str) -> str:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang" and v]
        return urlencode([("lang", lang), *kept])

    def refusal(request: Request, w, status: int, message: str) -> HTMLResponse:
        """The dashboard's page when it has no figures to show: no registry, a bad filter, a
        registry that cannot be read."""
        return render(request, "message.html", w, status, title=w("dashboard.title"), message=message)

    @pages.get("/dashboard", response_class=HTMLResponse)
    async def dashboard_page(request: Request, account: Account = Depends(need(*READERS))):
        w = service.words(lang_for(request))
        if index is None:
            return refusal(request, w, 404, w("dashboard.no_registry"))
        try:
            data, editions = await figures_of(request)
        except dashboard.FilterError as exc:
            return refusal(request, w, 400, w("dashboard.bad_filter", error=exc.words(w.cat)))
        except PnmanError as exc:
            return refusal(request, w, 500, exc.render(w.cat))
        return render(request, "dashboard.html", w,
                      **page_context(data, w, SIZE_CODES, editions, query_of(request, w.lang)))

    @pages.get("/dashboard.json")
    async def dashboard_json(request: Request, account: Account = Depends(need(*READERS))):
        if index is None:
            return JSONResponse({"error": Phrase("api.no_registry").words(messages())}, status_code=404)
        try:
            data, _ = await figures_of(request)
        except dashboard.FilterError as exc:
            return JSONResponse({"error": Phrase("api.query", detail=exc.phrase).words(messages())}, status_code=400)
        except PnmanError as exc:
            return JSONResponse({"error": exc.render(messages())}, status_code=500)
        return JSONResponse(data)

    @pages.get("/dashboard.xlsx")
    async def dashboard_xlsx(request: Request, account: Account = Depends(need(*READERS))):
        w = service.words(lang_for(request))
        if index is None:
            return refusal(request, w, 404, w("dashboard.no_registry"))
        try:
            filters, _ = filters_of(request)
        except dashboard.FilterError as exc:
            return refusal(request, w, 400, w("dashboard.bad_filter", error=exc.words(w.cat)))

        def build() -> bytes:
            with tempfile.TemporaryFile() as spool:
                write_entries(dashboard.entries(index, filters), w, spool)
                spool.seek(0)
                return spool.read()
        content = await run_in_threadpool(build)
        return Response(content, media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="pnman-dashboard.xlsx"'})
