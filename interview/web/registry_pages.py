"""What signed-in people do with the registry beyond reading it (contract §8, §11).

- a diagnostician (or an admin) overrides a fiche's status from an entry's page; the
  override's `by` is the signed-in account, never a form field, and the log keeps it;
- an auditor (or an admin) replays an entry (`pnman audit`) and verifies the whole chain
  (`pnman registry verify`), and exports it (`pnman registry export`);
- programs read the list and the entries, and override, with an API token.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from pnman.knowledge.errors import Phrase, PnmanError

from ..accounts.store import Account
from ..render.registry import verify_lines
from . import views
from .api import ApiError, json_body, json_response, messages
from .roles import OVERRIDERS, READERS, VERIFIERS, client_address, need

STATUSES = ("eligible", "conditional", "ineligible")


def override_choices(kb, w) -> dict:
    """The override form's lists: fiches, statuses and reason codes, in the page's words."""
    from pnman.knowledge.overrides import override_reasons
    return {"fiches": [(n, w.fiche_title(n)) for n in sorted(kb.fiches)],
            "statuses": [(s, w.status(s)) for s in STATUSES],
            "reasons": [(code, w(f"override.reasons.{code}")) for code in override_reasons(kb.directory)]}


def add_override(request: Request, registry, kb, entry_id: str, account: Account, fields: dict):
    """Append the override and log it; PnmanError says what is refused."""
    from pnman.knowledge.overrides import override_reasons
    from pnman.records.registry import Registry
    try:
        fiche = int(str(fields.get("fiche", "")).strip())
    except ValueError:
        fiche = -1
    with Registry.open(registry, create=False) as opened:
        override = opened.add_override(entry_id, fiche=fiche, status=str(fields.get("status", "")),
                                       reason=str(fields.get("reason", "")),
                                       justification=str(fields.get("justification", "")),
                                       by=account.name, reasons=override_reasons(kb.directory))
    request.app.state.accounts.log(account.name, client_address(request), "override",
                                   f"entry {entry_id} fiche {override.fiche}: {override.engine_status} → "
                                   f"{override.status} ({override.reason}); override {override.id}")
    return override


def routes(router: APIRouter, helpers, service, registry) -> None:
    render, see, lang_for = helpers.render, helpers.see, helpers.lang_for
    kb = service.kb

    def no_registry(request: Request):
        w = service.words(lang_for(request))
        return render(request, "message.html", w, 404, title=w("web.audit.no_registry_title"),
                      message=w("web.audit.no_registry"))

    @router.post("/assessments/{entry_id}/override")
    async def override(request: Request, entry_id: str, account: Account = Depends(need(*OVERRIDERS))):
        w = service.words(lang_for(request))
        form, refused = await helpers.checked_form(request, w)
        if refused:
            return refused
        if registry is None:
            return no_registry(request)
        try:
            await run_in_threadpool(add_override, request, registry, kb, entry_id, account, dict(form))
        except PnmanError as exc:
            return helpers.entry_page(request, entry_id, status=400, override_error=views.refusal(exc, w),
                                      override_kept=dict(form))
        return see(f"/assessments/{entry_id}?lang={w.lang}#overrides")

    @router.get("/audit")
    def chain(request: Request, account: Account = Depends(need(*VERIFIERS))):
        if registry is None:
            return no_registry(request)
        from pnman.records.registry import Registry
        w = service.words(lang_for(request))
        try:
            with Registry.open(registry, create=False) as opened:
                report = opened.verify()
        except PnmanError:                 # no registry file yet: nothing recorded
            return no_registry(request)
        return render(request, "audit.html", w, 200 if report.ok else 409, chain_ok=report.ok,
                      chain=verify_lines(report, registry, w), audit=None, entry_id=None)

    @router.get("/audit/{entry_id}")
    def audit_entry(request: Request, entry_id: str, account: Account = Depends(need(*VERIFIERS))):
        if registry is None:
            return no_registry(request)
        from pnman.engine.audit import audit
        from pnman.records.registry import Registry

        from ..render.explain import audit_text
        w = service.words(lang_for(request))
        try:
            with Registry.open(registry, create=False) as opened:
                shown = opened.show(entry_id)
                report = opened.verify()
        except PnmanError:
            return helpers.missing(request, w)
        replay = audit(dict(shown.record, _source=f"registry:{entry_id}"), kb)
        return render(request, "audit.html", w, 200 if replay["match"] and report.ok else 409,
                      chain_ok=report.ok, chain=verify_lines(report, registry, w), entry_id=entry_id,
                      audit=replay, audit_lines=audit_text(replay, w).splitlines())

    @router.get("/audit.jsonl")
    def export(request: Request, account: Account = Depends(need(*VERIFIERS))):
        if registry is None:
            return no_registry(request)
        from pnman.records.registry import Registry
        try:
            opened = Registry.open(registry, create=False)
        except PnmanError:
            return no_registry(request)

        def lines():
            try:
                yield from opened.iter_export()
            finally:
                opened.close()
        return StreamingResponse(lines(), media_type="application/x-ndjson",
                                 headers={"Content-Disposition": 'attachment; filename="pnman-registry.jsonl"'})

    # -- the same for programs (Authorization: Bearer <token>) ------------------------------------
    @router.get("/api/assessments", include_in_schema=True, tags=["registry"],
                summary="The registry's assessments, newest first (a diagnostician's, auditor's or admin's token)")
    def api_list(request: Request, account: Account = Depends(need(*READERS))) -> Response:
        if registry is None:
            return json_response([])
        from pnman.records.registry import Registry
        if not Path(registry).exists():
            return json_response([])
        with Registry.open(registry, create=False) as opened:
            return json_response([e.as_dict() for e in opened.list(limit=500)])

    @router.get("/api/assessments/{entry_id}", include_in_schema=True, tags=["registry"],
                summary="One registry entry and its overrides (contract §8's registry show)")
    def api_show(request: Request, entry_id: str, account: Account = Depends(need(*READERS))) -> Response:
        from pnman.records.registry import Registry
        if registry is None:
            raise ApiError(404, Phrase("api.no_registry"))
        try:
            with Registry.open(registry, create=False) as opened:
                return json_response(opened.show(entry_id).as_dict())
        except PnmanError:
            raise ApiError(404, Phrase("api.no_entry", id=entry_id[:40])) from None

    @router.post("/api/assessments/{entry_id}/overrides", include_in_schema=True, tags=["registry"], status_code=201,
                 summary="Override one fiche's status; `by` is the token's account")
    async def api_override(request: Request, entry_id: str, account: Account = Depends(need(*OVERRIDERS))):
        data = await json_body(request)
        if not isinstance(data, dict):
            raise ApiError(400, Phrase("api.request", detail=Phrase("api.override")))
        if registry is None:
            raise ApiError(404, Phrase("api.no_registry"))
        try:
            override = await run_in_threadpool(add_override, request, registry, kb, entry_id, account, data)
        except PnmanError as exc:
            raise ApiError(400, exc.render(messages()))
        return json_response(override.as_dict(), status=201)
