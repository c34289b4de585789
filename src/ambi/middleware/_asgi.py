"""Standard ASGI middleware (`app.add_middleware(SomeASGIMiddleware, **options)`).

ASGI middleware wraps the whole app, outside ambi's own chain, as in Starlette: the last
added is outermost. It applies whichever interface serves the app:

- over ASGI the stack is the app's ASGI entry point;
- over RSGI (Granian's native interface) `__rsgi__` bridges, as for a mounted ASGI app:
  the request's ASGI scope, `receive` and `send` run the same stack, so ASGI middleware is
  never skipped. `app.listen()` and `ambi run` serve such an app over Granian's ASGI
  interface instead, measured cheaper (`benchmarks/RESULTS.md`).

Before the stack runs, the route is matched once and put in `scope["route"]` (an object
with `path_format`, the template, as FastAPI does), so tracing middleware can name spans
by route: `route_span_details` is a `default_span_details` for OpenTelemetry's ASGI
middleware. An exception the stack raises before the response has started goes through
the app's exception handlers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._mount._bridge import ASGIAppResponse, asgi_scope
from .._pipeline import CompiledRoute
from ..http import Request, Response
from ..routing import Match
from ..servers._send_asgi import send_asgi
from ..servers._types import ASGIMessage, ASGIReceive, ASGIScope, ASGISend
from ..servers.asgi import _ASGIBody, _request_from_scope
from ._chain import Next

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.app")

ASGIApp = Callable[[ASGIScope, ASGIReceive, ASGISend], Awaitable[None]]

_CONVERTER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}")


class ScopeRoute:
    """The route an ASGI request matched, as ASGI tooling reads it from `scope["route"]`."""

    __slots__ = ("endpoint", "methods", "name", "path", "path_format")

    def __init__(self, route: CompiledRoute) -> None:
        definition = route.definition
        self.path: str = definition.path
        #: The template without converters (`/items/{item_id}`), FastAPI's `path_format`.
        self.path_format: str = _CONVERTER.sub(r"{\1}", definition.path)
        self.name = definition.name
        self.methods = definition.methods
        self.endpoint = definition.endpoint

    def __repr__(self) -> str:
        return f"<ScopeRoute {self.path_format}>"


def route_span_details(scope: ASGIScope) -> tuple[str, dict[str, Any]]:
    """Span name and attributes for OpenTelemetry's ASGI middleware, by route template::

    app.add_middleware(OpenTelemetryMiddleware, default_span_details=route_span_details)

    gives spans named `GET /items/{item_id}` with `http.route`; requests that match no
    route are named by their method alone (never by raw path: unbounded cardinality).
    """
    method = str(scope.get("method", "HTTP"))
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if template:
        return f"{method} {template}", {"http.route": template}
    return method, {}


def build_asgi_entry(app: App, inner: ASGIApp) -> ASGIApp:
    """`inner` (the app's own ASGI entry) wrapped in the ASGI middleware, last added
    outermost, behind the pre-routing and error boundary described above."""
    stack = inner
    for cls, options in app._asgi_middleware:
        stack = cls(stack, **options)
    routes: dict[CompiledRoute, ScopeRoute] = {}
    matcher = app._matcher
    error_response = app._error_response
    engine = app.engine

    async def entry(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] != "http":
            await stack(scope, receive, send)
            return
        found = matcher.match(scope["method"], scope["path"])
        if isinstance(found, Match):
            route = found.value
            info = routes.get(route)
            if info is None:
                info = routes[route] = ScopeRoute(route)
            scope["route"] = info
        started = False

        async def tracked(message: ASGIMessage) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await stack(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise  # the response is on its way: nothing else can be sent
            request = _request_from_scope(app, scope, _ASGIBody(app, receive))
            response = await error_response(request, exc)
            await send_asgi(response, send, engine, scope["method"] == "HEAD")

    return entry


# Serving the ASGI stack over RSGI --------------------------------------------------------


def rsgi_dispatch(app: App) -> Next:
    """Over RSGI: each request goes through the ASGI middleware stack, bridged by the
    machinery that serves mounted ASGI apps (`ambi._mount._bridge`)."""

    async def through_asgi_middleware(request: Request) -> Response:
        stack = app._asgi_stack()
        scope = asgi_scope(request, "", app.lifespan_state)
        return ASGIAppResponse(stack, request, scope, "the ASGI middleware")

    return through_asgi_middleware
