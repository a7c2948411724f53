"""The pages a person reads: one question a screen, the review, the result, the downloads.

Every page is a plain HTML form that posts and redirects, so it works with JavaScript
off; with it, htmx (`hx-boost`) swaps the page in place. The interview is the one of
machine.Interview, reached through service.Interviews like the JSON API.
"""
from __future__ import annotations

from types import SimpleNamespace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pnman.knowledge.errors import PnmanError
from pnman.knowledge.profile import check_value

from ..render.html import citation_html
from ..render.l10n import Words, implied_words
from ..accounts.store import Account
from . import login, registry_pages, views
from .links import under_root
from .roles import OVERRIDERS, READERS, VERIFIERS, account_of, need
from .forms import FormError, form_value, kept_value
from .security import CSRF_COOKIE, CSRF_FIELD, new_token, token_ok
from .service import PERSON, Interviews, Live, progress


def router(service: Interviews, templates, default_lang: str, languages: tuple[str, ...],
           registry=None, root: str = "") -> APIRouter:
    """`registry`: the registry file whose assessments the diagnostician's page lists (None:
    the interviews finished on this server). `root`: the sub-path every link and redirect
    goes under (--root-path, behind a reverse proxy)."""
    pages = APIRouter(include_in_schema=False)

    def render(request: Request, template_name: str, w: Words, status: int = 200, *, url: str | None = None,
               **context) -> HTMLResponse:
        """A page; `url`: the address it has (the question's, for a page that answers a post)."""
        token = request.cookies.get(CSRF_COOKIE) or new_token()
        account = account_of(request)
        html = templates.get_template(template_name).render(
            t=w, w=w, lang=w.lang, dir=w.cat.direction, csrf=token, csrf_field=CSRF_FIELD,
            cite=lambda citation: citation_html(citation, w),
            languages=[(code, service.words(code)("meta.name")) for code in languages],
            translation=w.cat.translation, path=request.url.path, colon=w.field("", ""),
            account=account, reader=account is not None and account.role in READERS,
            verifier=account is not None and account.role in VERIFIERS,
            **context)
        response = HTMLResponse(under_root(html, root), status_code=status)
        if request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=root or "/")
        if request.headers.get("hx-request"):
            response.headers["HX-Push-Url"] = root + (url or str(request.url.path))
        return response

    def see(url: str) -> RedirectResponse:
        return RedirectResponse(root + url, status_code=303)

    def lang_for(request: Request) -> str:
        lang = request.query_params.get("lang")
        return lang if lang in languages else default_lang

    def missing(request: Request, w: Words) -> HTMLResponse:
        return render(request, "message.html", w, 404, title=w("web.missing.title"), message=w("web.missing.text"))

    async def checked_form(request: Request, w: Words):
        form = await request.form()
        if not token_ok(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            return None, render(request, "message.html", w, 403, title=w("web.csrf.title"), message=w("web.csrf.text"))
        return form, None

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request):
        w = service.words(lang_for(request))
        return render(request, "home.html", w, name_max=service.kb.facts["name"].max_length or 200)

    @pages.post("/start")
    async def start(request: Request):
        w = service.words(lang_for(request))
        form, refused = await checked_form(request, w)
        if refused:
            return refused
        lang = form.get("lang") if form.get("lang") in languages else default_lang
        name = str(form.get("name", "")).strip()
        try:
            check_value("name", name or None, service.kb, file="<form>")
        except PnmanError as exc:
            return render(request, "home.html", service.words(lang), 400, error=views.refusal(exc, w), kept=name,
                          name_max=service.kb.facts["name"].max_length or 200)
        live = service.start(lang, PERSON)
        if name:
            with service.use(live.state.id) as started:
                started.interview.answer("name", name)
        return see(f"/i/{live.state.id}")

    def question_page(request: Request, live: Live, step, *, status=200, error=None, kept=None, back_to=""):
        w = live.interview.words
        url = None          # a refused answer's page keeps the question's address, not the post's (…/answer)
        if request.method == "POST":
            url = f"/i/{live.state.id}/edit/{step.key}?from=review" if back_to else f"/i/{live.state.id}"
        return render(request, "question.html", w, status, url=url, s=live.state, step=step, error=error,
                      kept=step.default if kept is None else kept, progress=progress(live), back_to=back_to,
                      can_go_back=any(live.interview.kb.facts[k].role != "identity" for k in live.state.asked),
                      choice_value=views.choice_value, implied=lambda rule: implied_words(w, rule))

    @pages.get("/i/{session_id}", response_class=HTMLResponse)
    def ask(request: Request, session_id: str):
        with service.use(session_id) as live:
            if live is None:
                return missing(request, service.words(lang_for(request)))
            step = live.interview.next()
            if step is None:
                return see(f"/i/{session_id}/result")
            return question_page(request, live, step)

    @pages.get("/i/{session_id}/edit/{key}", response_class=HTMLResponse)
    def edit(request: Request, session_id: str, key: str):
        with service.use(session_id) as live:
            if live is None or key not in live.interview.kb.questions or (
                    key not in live.state.asked and key != "fiches"):
                return missing(request, service.words(lang_for(request)))
            back_to = "review" if request.query_params.get("from") == "review" else ""
            return question_page(request, live, live.interview.question(key), back_to=back_to)

    @pages.post("/i/{session_id}/answer")
    async def answer(request: Request, session_id: str):
        w0 = service.words(lang_for(request))
        form, refused = await checked_form(request, w0)
        if refused:
            return refused

        def run():
            with service.use(session_id) as live:
                if live is None:
                    return missing(request, w0)
                key = str(form.get("key", ""))
                back_to = "review" if form.get("return") == "review" else ""
                if key not in live.interview.kb.questions:
                    return missing(request, w0)
                if not live.interview.can_answer(key):     # an old page (the browser's back button)
                    return see(f"/i/{session_id}")
                step = live.interview.question(key)
                try:
                    live.interview.answer(key, form_value(step, form, live.interview.words))
                except (FormError, PnmanError) as exc:
                    message = exc.message if isinstance(exc, FormError) else views.refusal(exc, live.interview.words)
                    return question_page(request, live, step, status=400, error=message,
                                         kept=kept_value(step, form), back_to=back_to)
                if back_to == "review" and live.interview.next() is not None:
                    return see(f"/i/{session_id}/review")
                return see(f"/i/{session_id}")
        return await run_in_threadpool(run)

    @pages.post("/i/{session_id}/lang")
    async def change_language(request: Request, session_id: str):
        form, refused = await checked_form(request, service.words(lang_for(request)))
        if refused:
            return refused
        back_to = str(form.get("next", ""))
        if not back_to.startswith(f"/i/{session_id}"):
            back_to = f"/i/{session_id}"
        with service.use(session_id) as live:
            if live is None:
                return missing(request, service.words(lang_for(request)))
            if form.get("lang") in languages:
                service.change_language(live, form.get("lang"))
        return see(back_to)

    @pages.post("/i/{session_id}/back")
    async def back(request: Request, session_id: str):
        form, refused = await checked_form(request, service.words(lang_for(request)))
        if refused:
            return refused
        with service.use(session_id) as live:
            if live is not None:
                live.interview.back()
        return see(f"/i/{session_id}")

    @pages.get("/i/{session_id}/review", response_class=HTMLResponse)
    def review(request: Request, session_id: str):
        with service.use(session_id) as live:
            if live is None:
                return missing(request, service.words(lang_for(request)))
            return render(request, "review.html", live.interview.words, s=live.state,
                          answers=views.review_rows(live.interview), done=live.interview.next() is None,
                          progress=progress(live))

    @pages.get("/i/{session_id}/result", response_class=HTMLResponse)
    def result(request: Request, session_id: str):
        with service.use(session_id) as live:
            if live is None:
                return missing(request, service.words(lang_for(request)))
            if live.interview.next() is not None:
                return see(f"/i/{session_id}")
            w = live.interview.words
            record = service.result(live)
            return render(request, "result.html", w, base=f"/i/{session_id}", review=f"/i/{session_id}/review",
                          s=live.state, **views.result_context(record, w))

    @pages.get("/i/{session_id}/fiche/{number}", response_class=HTMLResponse)
    def fiche(request: Request, session_id: str, number: int):
        with service.use(session_id) as live:
            if live is None or number not in live.interview.kb.fiches or live.interview.next() is not None:
                return missing(request, service.words(lang_for(request)))
            w = live.interview.words
            record = service.result(live)
        return fiche_page(request, w, record, number, f"/i/{session_id}", f"/i/{session_id}/result", s=live.state)

    @pages.get("/i/{session_id}/answer")
    def answer_address(session_id: str):
        """The address a refused answer was posted to, opened again (a bookmark, the page
        reloaded without JavaScript): the question it answered."""
        return see(f"/i/{session_id}")

    @pages.get("/i/{session_id}/{download}")
    def download(request: Request, session_id: str, download: str):
        if download not in views.DOWNLOADS:
            return missing(request, service.words(lang_for(request)))
        with service.use(session_id) as live:
            if live is None or live.interview.next() is not None:
                return missing(request, service.words(lang_for(request)))
            w = live.interview.words
            record = service.result(live)
        return download_response(request, w, record, download)

    def fiche_page(request: Request, w: Words, record: dict, number: int, base: str, back: str,
                   s=None) -> HTMLResponse:
        """A fiche's explanation under `base` (an interview's or a registry entry's pages);
        `back`: the page it was opened from."""
        context = views.explanation_context(record, number, w)
        partial = request.headers.get("hx-request") and request.headers.get("hx-target")
        return render(request, "fiche_part.html" if partial else "fiche.html", w, base=base, back=back, s=s,
                      **context)

    def download_response(request: Request, w: Words, record: dict, download: str) -> Response:
        try:
            content, media, extra = views.download(record, w, download)
        except views.Unavailable as exc:
            return render(request, "message.html", w, 404, title=w("web.pdf_missing.title"), message=str(exc))
        filename = views.file_name(record, download)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"', **extra}
        return Response(content, media_type=media, headers=headers)

    @pages.get("/assessments", response_class=HTMLResponse)
    def listing(request: Request, account: Account = Depends(need(*READERS))):
        w = service.words(lang_for(request))
        rows = views.registry_rows(registry, w) if registry is not None else views.session_rows(service, w)
        return render(request, "assessments.html", w, rows=rows, registry=registry)

    def entry(request: Request, entry_id: str):
        """A registry entry for this page's language, or None (a page saying it is missing)."""
        if registry is None:
            return None, None
        w = service.words(lang_for(request))
        try:
            return w, views.registry_entry(registry, entry_id, w)
        except PnmanError:
            return w, None

    @pages.get("/assessments/{entry_id}", response_class=HTMLResponse)
    def entry_page(request: Request, entry_id: str, account: Account = Depends(need(*READERS))):
        return entry_view(request, entry_id)

    def entry_view(request: Request, entry_id: str, status: int = 200, override_error: str | None = None,
                   override_kept: dict | None = None):
        """An entry's page; a diagnostician's (or admin's) has the override form."""
        w, shown = entry(request, entry_id)
        if shown is None:
            return missing(request, w or service.words(lang_for(request)))
        base = f"/assessments/{entry_id}"
        account = account_of(request)
        form = registry_pages.override_choices(service.kb, w) if account and account.role in OVERRIDERS else None
        return render(request, "result.html", w, status, base=base, review=None, entry=shown,
                      override_form=form, override_error=override_error, override_kept=override_kept or {},
                      **views.result_context(shown["record"], w))

    @pages.get("/assessments/{entry_id}/fiche/{number}", response_class=HTMLResponse)
    def entry_fiche(request: Request, entry_id: str, number: int, account: Account = Depends(need(*READERS))):
        w, shown = entry(request, entry_id)
        if shown is None or number not in service.kb.fiches:
            return missing(request, w or service.words(lang_for(request)))
        return fiche_page(request, w, shown["record"], number, f"/assessments/{entry_id}", f"/assessments/{entry_id}")

    @pages.get("/assessments/{entry_id}/{download}")
    def entry_download(request: Request, entry_id: str, download: str, account: Account = Depends(need(*READERS))):
        w, shown = entry(request, entry_id)
        if shown is None or download not in views.DOWNLOADS:
            return missing(request, w or service.words(lang_for(request)))
        return download_response(request, w, shown["record"], download)

    from .dashboard_pages import add_routes
    add_routes(pages, render, lang_for, service, registry)     # /dashboard: for READERS, as /assessments
    helpers = SimpleNamespace(render=render, see=see, lang_for=lang_for, missing=missing, checked_form=checked_form,
                              words=service.words, entry_page=entry_view, cookie_path=root or "/")
    login.routes(pages, helpers)
    registry_pages.routes(pages, helpers, service, registry)
    return pages

