"""Standard ASGI middleware (`app.add_middleware(SomeASGIMiddleware, **options)`).

ASGI middleware wraps the whole app, outside ambi's own chain, as in Starlette: the last
added is outermost. It applies whichever interface serves the app:

- over ASGI the stack is the app's ASGI entry point;
- over RSGI (Granian's native interface, ambi's default) `__rsgi__` bridges: it makes the
  ASGI scope, `receive` and `send` from Granian's protocol object and runs the same stack,
  so ASGI middleware is never skipped (`benchmarks/RESULTS.md` compares this bridge with
  serving the app over Granian's ASGI interface).

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

from .._pipeline import CompiledRoute
from ..routing import Match
from ..servers._types import (
    ASGIMessage,
    ASGIReceive,
    ASGIScope,
    ASGISend,
    RSGIProtocol,
    RSGIScope,
    RSGIStreamTransport,
)
from ..servers.asgi import _request_from_scope

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
            request = _request_from_scope(app, scope, receive)
            response = await error_response(request, exc)
            await response.send_asgi(send, engine, scope["method"] == "HEAD")

    return entry


# Serving the ASGI stack over RSGI --------------------------------------------------------


def _address(value: str) -> tuple[str, int] | None:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def asgi_scope_from_rsgi(scope: RSGIScope) -> ASGIScope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "raw_path": scope.path.encode("utf-8"),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
        "client": _address(scope.client),
        "server": _address(scope.server),
    }


class _RSGIReply:
    """ASGI `send` onto Granian's protocol: one call for a body sent in one message, a
    stream otherwise."""

    __slots__ = ("headers", "proto", "status", "transport")

    def __init__(self, proto: RSGIProtocol) -> None:
        self.proto = proto
        self.status = 200
        self.headers: list[tuple[str, str]] = []
        self.transport: RSGIStreamTransport | None = None

    async def send(self, message: ASGIMessage) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())
            ]
            return
        if kind != "http.response.body":
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        transport = self.transport
        if transport is None:
            if not more:
                if body:
                    self.proto.response_bytes(self.status, self.headers, body)
                else:
                    self.proto.response_empty(self.status, self.headers)
                return
            transport = self.transport = self.proto.response_stream(self.status, self.headers)
        if body:
            await transport.send_bytes(body)


async def serve_rsgi(entry: ASGIApp, scope: RSGIScope, proto: RSGIProtocol) -> None:
    """Serve one RSGI request through the ASGI middleware stack `entry`."""
    body = proto.__aiter__()
    done = False

    async def receive() -> ASGIMessage:
        nonlocal done
        if not done:
            try:
                # Not anext(body, None): Granian's iterator takes down its worker that way.
                chunk = await body.__anext__()
            except StopAsyncIteration:
                done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}
        await proto.client_disconnect()
        return {"type": "http.disconnect"}

    await entry(asgi_scope_from_rsgi(scope), receive, _RSGIReply(proto).send)
