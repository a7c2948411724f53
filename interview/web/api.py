"""The JSON API of contract §7: the same checks and one-line messages as the CLI's exit 2."""
from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pnman.engine.facade import assess
from pnman.knowledge.errors import Phrase, PnmanError
from pnman.knowledge.locales import catalogue, message_language
from pnman.knowledge.export import knowledge_export
from pnman.knowledge.profile import check_profile

from ..render.l10n import localise
from .lane import on_lane
from .service import PROGRAM, Interviews, progress
from .sessions import StoreBusy

log = logging.getLogger("pnman.web")
REQUEST = "<request>"     # how an error names the source, as the CLI names a file


class ApiError(Exception):
    """An API refusal: its status and its message, a Phrase worded in the server's message
    language when it is answered (a str is said as it is)."""

    def __init__(self, status: int, message: str | Phrase):
        self.status = status
        self.phrase = message

    @property
    def message(self) -> str:
        return self.phrase.words(messages()) if isinstance(self.phrase, Phrase) else self.phrase


class InterviewStart(BaseModel):
    lang: str | None = Field(None, description="fr, en or ar (default: the server's)")


class Answer(BaseModel):
    key: str = Field(description="the profile key of the question answered (contract §2)")
    value: Any = Field(None, description="the answer; null is « je ne sais pas » (unknown)")



def messages():
    """The catalogue a refusal of the API is worded with: the server's message language
    ($PNMAN_LANG, else $LANG), as `pnman` says its exit-2 line (contract §7)."""
    return catalogue(message_language([]))

def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def json_only(request: Request, raw: bytes = b"") -> None:
    """A POST to the API is JSON, or has no body and no type at all: a foreign page's
    "simple" request (a form, text/plain) is refused (415), as is any request a browser
    marks as sent by another site (403)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise ApiError(403, Phrase("api.cross_site"))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or (not kind and not raw):
        return
    raise ApiError(415, Phrase("api.not_json_type", found=kind) if kind else Phrase("api.no_body"))


async def json_body(request: Request, *, optional: bool = False) -> Any:
    """The body as JSON; anything else is refused (a foreign page cannot post JSON)."""
    raw = await request.body()
    json_only(request, raw)
    if not raw.strip() and optional:
        return {}
    if not raw.strip():
        raise ApiError(415, Phrase("api.no_body"))
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, Phrase("api.request", detail=Phrase("api.not_json", problem=str(exc))))


def router(service: Interviews, default_lang: str, languages: tuple[str, ...]) -> APIRouter:
    api = APIRouter()
    kb = service.kb

    def lang_of(value: Any) -> str:
        if value is None:
            return default_lang
        if value not in languages:
            raise ApiError(400, Phrase("api.request", detail=Phrase("api.lang", allowed=", ".join(languages),
                                                                     found=repr(value))))
        return value

    @api.get("/healthz", tags=["server"])
    def healthz():
        return {"status": "ok", "knowledge_version": kb.version}

    @api.get("/api/fiches", tags=["knowledge"], summary="The guide's fiches (contract §5)")
    def fiches():
        return json_response(knowledge_export(kb))

    @api.post("/api/assess", tags=["assessment"], summary="Assess a profile (contract §2 in, §4 out)",
              openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}},
                                             "required": True}})
    async def assess_profile(request: Request, lang: str | None = None):
        data = await json_body(request)
        words = service.words(lang_of(lang))

        def run():
            try:
                profile = check_profile(data, kb, file=REQUEST)
            except PnmanError as exc:
                raise ApiError(400, exc.render(messages()))
            return json_response(localise(assess(profile, kb).record(), words))
        return await run_in_threadpool(run)

    @api.post("/api/interviews", status_code=201, tags=["interview"], summary="Start an interview",
              openapi_extra={"requestBody": {"content": {"application/json": {
                  "schema": InterviewStart.model_json_schema()}}}})
    @on_lane
    async def start(request: Request):
        data = await json_body(request, optional=True)
        if not isinstance(data, dict):
            raise ApiError(400, Phrase("api.request", detail=Phrase("api.start")))
        live = service.start(lang_of(data.get("lang")), PROGRAM)
        step = live.interview.next()
        return json_response({"id": live.state.id, "next": step.as_dict() if step else None,
                              "progress": progress(live)}, status=201)

    @api.post("/api/interviews/{session_id}/answers", tags=["interview"], summary="Answer the question asked",
              openapi_extra={"requestBody": {"content": {"application/json": {"schema": Answer.model_json_schema()}},
                                             "required": True}})
    @on_lane
    async def answer(session_id: str, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            raise ApiError(400, Phrase("api.request", detail=Phrase("api.answer")))
        return await stepped(session_id, lambda live: live.interview.answer(data["key"], data.get("value")))

    @api.post("/api/interviews/{session_id}/back", tags=["interview"], summary="Take back the last answer")
    @on_lane
    async def back(session_id: str, request: Request):
        json_only(request, await request.body())
        return await stepped(session_id, lambda live: live.interview.back())

    @api.get("/api/interviews/{session_id}", tags=["interview"], summary="Answers so far, next question, result")
    @on_lane
    def show(session_id: str):
        with service.use(session_id) as live:
            if live is None:
                raise ApiError(404, Phrase("api.no_interview", id=session_id[:40]))
            return json_response(service.summary(live))

    waiting = 0         # answers of this server in worker threads now (read and changed on the event loop only)

    async def stepped(session_id: str, act) -> Response:
        """`_step` at once on the event loop when nothing can keep it waiting there: no
        other answer in progress here (a busy server keeps the threads, which overlap one
        answer's writing to disk with another's work), the session free (no other request
        holds it, in any process), the database's write lock free when the answer is
        committed, no registry to append a result to. The loop then waits only for the
        commit's own write to disk, as a start's does. Otherwise, and when the database
        was busy (nothing was committed, the session's memory is dropped), the answer is
        taken in a worker thread, which waits its turn. The hop to a thread and back was a
        tenth of an answer's server CPU (issue 23)."""
        nonlocal waiting
        if not waiting and service.recorder is None:
            store = service.store
            try:
                with store.hold_if_free(session_id) as free:
                    if free:
                        with store.impatient():
                            return _step(session_id, act)
            except StoreBusy:
                pass            # nothing was committed: the answer is taken in a thread below
        waiting += 1
        try:
            return await run_in_threadpool(_step, session_id, act)
        finally:
            waiting -= 1

    def _step(session_id: str, act) -> Response:
        with service.use(session_id) as live:
            if live is None:
                raise ApiError(404, Phrase("api.no_interview", id=session_id[:40]))
            try:
                act(live)
            except PnmanError as exc:
                raise ApiError(400, exc.render(messages()))
            step = live.interview.next()
            return json_response({"next": step.as_dict() if step else None, "progress": progress(live),
                                  "result": service.result(live) if step is None else None})

    return api


def api_error_response(_request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status_code=exc.status)
