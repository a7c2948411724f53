"""The interview API's lane (interview/web/lane.py) answers exactly as FastAPI's routing does:
the same status, headers and body for the same requests, refusals included, and it is the
way those requests actually take."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from starlette.routing import Match  # noqa: E402

from pnman.interview.web.app import Settings, create_app  # noqa: E402
from pnman.interview.web.security import MAX_BODY  # noqa: E402
from strategies import KB  # noqa: E402

BASE = "http://127.0.0.1:8000"
VOLATILE = ("timestamp", "record_hash")     # the moment a record is made, and the hash that seals it
PROFILE = {"name": "Atelier Lane", "employees": 30, "pnman_member": True, "goals": ["erp", "crm"], "uses_it": True,
           "it_manager": False, "local_network": True, "internet_access": True, "management_software": False}


def counted(app) -> list[str]:
    """The paths the lane serves from now on."""
    served, inner = [], app.lane.app

    async def counting(scope, receive, send):
        served.append(scope["path"])
        await inner(scope, receive, send)
    app.lane.app = counting
    return served


@pytest.fixture()
def pair(tmp_path: Path):
    """Two servers on one sessions folder: one with its lane, one without (every request routed)."""
    settings = dict(kb=KB, sessions=tmp_path, accounts=tmp_path / "accounts.sqlite3")
    laned, plain = create_app(Settings(**settings)), create_app(Settings(**settings))
    assert laned.lane is not None
    plain.lane = None
    return laned, plain


def same(a, b, ids: tuple[str, str] = ("", "")) -> None:
    """Two answers equal but for the sessions' ids and a result's making moment."""
    assert a.status_code == b.status_code, (a.text, b.text)
    assert a.headers.items() == b.headers.items() or sorted(a.headers.items()) == sorted(b.headers.items())
    left, right = a.content, b.content
    if ids[0]:
        left = left.replace(ids[0].encode(), b"<id>")
        right = right.replace(ids[1].encode(), b"<id>")
    if a.headers.get("content-type") == "application/json":
        left, right = orjson.loads(left), orjson.loads(right)
        for body in (left, right):
            if isinstance(body, dict) and isinstance(body.get("result"), dict):
                for key in VOLATILE:
                    body["result"].pop(key, None)
    assert left == right


def test_a_whole_interview_answers_the_same_bytes_on_the_lane(pair):
    laned, plain = pair
    served = counted(laned)
    fast, slow = TestClient(laned, base_url=BASE), TestClient(plain, base_url=BASE)
    a, b = fast.post("/api/interviews", json={"lang": "en"}), slow.post("/api/interviews", json={"lang": "en"})
    ids = (a.json()["id"], b.json()["id"])
    same(a, b, ids)
    assert served == ["/api/interviews"]
    step, answered = a.json()["next"], 0
    first = step["key"]
    while step is not None:
        body = {"key": step["key"], "value": PROFILE.get(step["key"])}
        a = fast.post(f"/api/interviews/{ids[0]}/answers", json=body)
        b = slow.post(f"/api/interviews/{ids[1]}/answers", json=body)
        same(a, b, ids)
        assert a.status_code == 200, a.text
        step, answered = a.json()["next"], answered + 1
        if answered == 2:       # take one back and give it again, both ways
            same(fast.post(f"/api/interviews/{ids[0]}/back"), slow.post(f"/api/interviews/{ids[1]}/back"), ids)
            step = fast.get(f"/api/interviews/{ids[0]}").json()["next"]
        assert answered < 60
    assert a.json()["result"]["decision_digest"] == b.json()["result"]["decision_digest"]
    same(fast.get(f"/api/interviews/{ids[0]}"), slow.get(f"/api/interviews/{ids[1]}"), ids)
    assert len(served) == answered + 4 and all(p.startswith("/api/interviews") for p in served)  # start, back, two looks
    assert first in fast.get(f"/api/interviews/{ids[0]}").json()["answers"]


@pytest.mark.parametrize("request_", [
    ("POST", "/api/interviews", {"content": b"[1, 2]", "headers": {"content-type": "application/json"}}),
    ("POST", "/api/interviews", {"content": b"{", "headers": {"content-type": "application/json"}}),
    ("POST", "/api/interviews", {"json": {"lang": "xx"}}),
    ("POST", "/api/interviews", {"content": b"lang=fr", "headers": {"content-type": "application/x-www-form-urlencoded"}}),
    ("POST", "/api/interviews", {"json": {}, "headers": {"sec-fetch-site": "cross-site"}}),
    ("POST", "/api/interviews", {"json": {}, "headers": {"host": "evil.example:8000"}}),
    ("POST", "/api/interviews", {"content": b"x" * (MAX_BODY + 1), "headers": {"content-type": "application/json"}}),
    ("POST", "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA/answers", {"json": {"key": "employees", "value": 3}}),
    ("POST", "/api/interviews/not-an-id/answers", {"json": {"key": "employees", "value": 3}}),
    ("POST", "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA/answers", {"content": b"", "headers": {}}),
    ("POST", "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA/back", {"content": b"x", "headers": {"content-type": "text/plain"}}),
    ("GET", "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA", {}),
    ("GET", "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA/answers", {}),        # not a route of the lane: 405 either way
    ("POST", "/api/interviews/", {"json": {}}),                               # nor this one
    ("PUT", "/api/interviews", {"json": {}}),
])
def test_refusals_are_the_same_on_the_lane(pair, request_):
    laned, plain = pair
    method, path, options = request_
    fast = TestClient(laned, base_url=BASE, follow_redirects=False)
    slow = TestClient(plain, base_url=BASE, follow_redirects=False)
    same(fast.request(method, path, **options), slow.request(method, path, **options))


def test_an_answer_refused_by_the_interview_is_the_same_on_the_lane(pair):
    laned, plain = pair
    fast, slow = TestClient(laned, base_url=BASE), TestClient(plain, base_url=BASE)
    ids = (fast.post("/api/interviews", json={}).json()["id"], slow.post("/api/interviews", json={}).json()["id"])
    for body in ({"key": "employees", "value": "many"}, {"key": "employees", "value": None},
                 {"key": "no_such_fact", "value": 1}, {"key": "machines_db", "value": True}, {"value": 3}, [1]):
        same(fast.post(f"/api/interviews/{ids[0]}/answers", json=body),
             slow.post(f"/api/interviews/{ids[1]}/answers", json=body), ids)


def test_each_lane_route_is_the_one_the_routing_would_choose(pair):
    laned, _ = pair
    paths = {"start": "/api/interviews", "answer": "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA/answers",
             "back": "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA/back", "show": "/api/interviews/AAAAAAAAAAAAAAAAAAAAAA"}
    assert sorted(route.endpoint.__name__ for route in laned.lane.routes) == sorted(paths)
    for route in laned.lane.routes:
        for method in route.methods:
            scope = {"type": "http", "method": method, "path": paths[route.endpoint.__name__], "root_path": "",
                     "headers": [], "query_string": b""}
            assert laned.lane.match(scope)[0] is route
            first = next(candidate for candidate in laned.router.routes if candidate.matches(scope)[0] is Match.FULL)
            included = getattr(first, "original_router", None)     # FastAPI keeps an included router whole
            chosen = first if included is None else next(
                candidate for candidate in included.routes if candidate.matches(scope)[0] is Match.FULL)
            assert chosen.endpoint is route.endpoint


def test_traced_requests_and_a_sub_path_take_the_plain_way(pair, tmp_path):
    laned, _ = pair
    served = counted(laned)
    laned._native_telemetry.enabled = lambda: True          # as if OpenTelemetry were set up
    client = TestClient(laned, base_url=BASE)
    started = client.post("/api/interviews", json={})
    assert started.status_code == 201 and served == []
    behind = create_app(Settings(kb=KB, sessions=tmp_path, accounts=tmp_path / "accounts.sqlite3",
                                 root_path="/pnman"))
    assert behind.lane is None
    assert TestClient(behind, base_url=BASE).post("/pnman/api/interviews", json={}).status_code == 201


def test_a_lane_route_with_a_dependency_is_refused_at_start_up():
    """The lane skips FastAPI's dependency solver: an access check added to a lane route, to its
    router, to the router's inclusion or to the app must stop the server from starting, never
    be skipped."""
    from fastapi import APIRouter, Depends, FastAPI
    from fastapi.responses import JSONResponse

    from pnman.interview.web.lane import Lane, on_lane

    def check():
        return None

    def app_with(router_dependencies=(), route_dependencies=(), include_dependencies=(), app_dependencies=()):
        app = FastAPI(dependencies=list(app_dependencies))
        router = APIRouter(dependencies=list(router_dependencies))

        @router.get("/api/interviews/{session_id}", dependencies=list(route_dependencies))
        @on_lane
        def show(session_id: str):
            return JSONResponse({"id": session_id})
        app.include_router(router, dependencies=list(include_dependencies))
        return app, router

    app, router = app_with()
    assert len(Lane(app, router, None).routes) == 1
    for where in ("router_dependencies", "route_dependencies", "include_dependencies", "app_dependencies"):
        app, router = app_with(**{where: [Depends(check)]})
        with pytest.raises(TypeError, match="would skip the dependencies"):
            Lane(app, router, None)
