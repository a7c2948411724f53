"""The interview API's busy requests straight to their endpoints, past FastAPI's routing.

An interview is a start and a few answers a minute per person; under uvicorn each of
those requests went through FastAPI's layers (the telemetry check, three middlewares,
the exit stacks, a scan of some forty routes, the dependency solver) before reaching an
endpoint that reads its own JSON body and returns its own Response: about a third of an
answer's server CPU (issue 23). The lane matches those few routes as Starlette's routing
does (each route's own `matches`) and calls the same endpoint functions, behind the same guard
(security.GuardMiddleware: host, body size, headers, a defect logged) and the same
exception handlers (Starlette's ExceptionMiddleware with the app's handlers), so an
answer is the same bytes either way (tests/test_web_lane.py compares them). Everything
else, and everything when FastAPI's telemetry is on, takes the plain way.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from .security import GuardMiddleware

LANE = "pnman.lane"        # the scope key holding the endpoint a request goes to, and its path parameters


def on_lane(endpoint: Callable) -> Callable:
    """Marks an API endpoint for the lane: its parameters are its path's and `request`, and it
    returns a Response of its own (nothing for FastAPI to validate or serialise)."""
    endpoint.on_lane = True
    return endpoint


class _Route:
    def __init__(self, route: APIRoute):
        names = set(inspect.signature(route.endpoint).parameters)
        unknown = names - set(route.param_convertors) - {"request"}
        if unknown:
            raise TypeError(f"{route.path}: the lane passes path parameters and the request, not {sorted(unknown)}")
        self.route = route
        self.methods = route.methods
        self.endpoint = route.endpoint
        self.wants_request = "request" in names
        self.is_async = inspect.iscoroutinefunction(route.endpoint)

    def params(self, scope) -> dict[str, Any] | None:
        """The request's path parameters when the route takes it (Starlette's own matching:
        its path, method and parameter conversions), else None."""
        match, child = self.route.matches(scope)
        return child["path_params"] if match is Match.FULL else None


class Lane:
    """The marked routes of `router` (included in `app` as it is, without a prefix or
    dependencies), served past the app's routing; `hosts`: GuardMiddleware's."""

    def __init__(self, app: FastAPI, router: APIRouter, hosts: Iterable[str] | None):
        marked = [route for route in router.routes
                  if isinstance(route, APIRoute) and getattr(route.endpoint, "on_lane", False)]
        _refuse_dependencies(app, router, marked)
        self.routes = [_Route(route) for route in marked]
        handlers = {kind: handler for kind, handler in app.exception_handlers.items() if kind not in (500, Exception)}
        self.app = GuardMiddleware(ExceptionMiddleware(self._endpoint, handlers=handlers), hosts=hosts)

    def match(self, scope) -> tuple[_Route, dict[str, Any]] | None:
        """The lane's route for a request and its path parameters, or None (the plain way)."""
        for route in self.routes:
            params = route.params(scope)
            if params is not None:
                return route, params
        return None

    async def _endpoint(self, scope, receive, send) -> None:
        route, params = scope[LANE]
        request = Request(scope, receive, send)
        if route.wants_request:
            params = dict(params, request=request)
        if route.is_async:
            response = await route.endpoint(**params)
        else:
            response = await run_in_threadpool(route.endpoint, **params)
        if not isinstance(response, Response):
            raise TypeError(f"{route.endpoint.__name__} returned {type(response).__name__}, not a Response")
        await response(scope, receive, send)


def _refuse_dependencies(app: FastAPI, router: APIRouter, marked: list[APIRoute]) -> None:
    """The lane calls endpoints without FastAPI's dependency solver: a dependency set on a lane
    route, on its router, where the router is included or on the app (an access check added
    one day) would be skipped without a word. So the lane is refused at start-up instead
    (TypeError), whichever of FastAPI's ways of including a router is in use."""
    def refuse(where: str):
        raise TypeError(f"the interview lane would skip the dependencies of {where}: mark no such route on_lane")
    if app.router.dependencies:
        refuse("the app")
    if router.dependencies or router.prefix:
        refuse("its router")
    for route in marked:
        if route.dependencies or route.dependant.dependencies:
            refuse(route.path)
    included = [found for found in app.router.routes if getattr(found, "original_router", None) is router]
    if included:                    # FastAPI keeps an included router whole, with how it was included
        context = getattr(included[0], "include_context", None)
        if context is None or context.dependencies or context.prefix:
            refuse("the router's inclusion")
        return
    endpoints = {route.endpoint for route in marked}     # older FastAPI: the routes copied, dependencies merged
    copies = [found for found in app.router.routes if isinstance(found, APIRoute) and found.endpoint in endpoints]
    if len(copies) != len(marked) or any(found.dependant.dependencies for found in copies):
        refuse("the router's inclusion")
