"""The app middleware chain: what is enabled, in a fixed order, composed once at startup.

The chain wraps routing and the route pipeline, so every response, the 404 / 405 / 413 /
422 / 500 ones included, comes back out through it (and carries the headers CORS, request
id and security headers add). Order, outermost first (in on the way in, out last):

```
ASGI middleware (app.add_middleware(SomeASGIMiddleware)): last added outermost
  PROXY_HEADERS     enable_proxy_headers: request.client / scheme from trusted proxies
  REQUEST_ID        enable_request_id: the id every later layer and log line sees
  OBSERVE           enable_logging (access log); metrics and tracing hook in here
  TRUSTED_HOSTS     enable_trusted_hosts: 400 for other Host values
  HTTPS_REDIRECT    enable_https_redirect
  SECURITY_HEADERS  enable_security_headers
  CORS              enable_cors: preflights answered here, never reach the handler
  RATE_LIMIT        app-wide limits (ambi.ratelimit), after CORS so a 429 carries CORS
  COMPRESSION       enable_gzip
  SESSIONS          request.session (ambi.sessions)
  USER              @app.middleware("http") and add_middleware(ambi class): last
                    registered outermost (as in Starlette and FastAPI)
  HOOKS             @app.before_request (in registration order), @app.after_request (in
                    reverse registration order, as in Flask)
    routing (404 / 405) -> the route's pipeline (413, 422, handler, 500), which starts
    with the route's own middleware (include_router -> Router -> route `middleware=`,
    outermost first: `ambi.middleware._route`)
```

Layers of one order sit in registration order (the first added is outermost), except
USER, which follows Starlette's rule. With nothing enabled the app serves straight from
routing: the chain costs nothing.

Internal API for features (sessions, app-wide rate limits, metrics): `app.add_layer(order,
factory)`, where `factory(app, call_next) -> call_next'` runs once at startup and returns
the handler of its layer (or `call_next` itself to stay out of the chain). A layer
returns a `Response`; an exception it raises is turned into the error response by the
app's exception handlers, so outer layers still see a response.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..http import Request, Response
from ..servers._types import ClientDisconnected

if TYPE_CHECKING:
    from ..app import App

Next = Callable[[Request], Awaitable[Response]]
LayerFactory = Callable[["App", Next], Next]


class LayerOrder(enum.IntEnum):
    """Where a layer sits in the app chain: lower is outermost (sees the request first)."""

    PROXY_HEADERS = 10
    REQUEST_ID = 20
    OBSERVE = 30
    TRUSTED_HOSTS = 40
    HTTPS_REDIRECT = 50
    SECURITY_HEADERS = 60
    CORS = 70
    RATE_LIMIT = 80
    COMPRESSION = 90
    SESSIONS = 100
    USER = 110
    HOOKS = 120


@dataclass(slots=True)
class _Entry:
    order: int
    position: int  # sorts layers of one order: lower is outer
    factory: LayerFactory
    guard: bool  # wrap in an error boundary (code ambi did not write)


class Chain:
    """The layers an app has enabled, put together by `compose` at startup."""

    __slots__ = ("_count", "_entries")

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._count = 0

    def __bool__(self) -> bool:
        return bool(self._entries)

    def add(
        self, order: int, factory: LayerFactory, *, guard: bool = True, last_outermost: bool = False
    ) -> None:
        self._count += 1
        position = -self._count if last_outermost else self._count
        self._entries.append(_Entry(int(order), position, factory, guard))

    def copy(self) -> Chain:
        chain = Chain()
        chain._entries = list(self._entries)
        chain._count = self._count
        return chain

    def compose(self, app: App, core: Next) -> Next:
        """The chain's entry point: each layer built once, innermost first, around `core`."""
        handle = core
        for entry in sorted(self._entries, key=lambda e: (e.order, e.position), reverse=True):
            layer = entry.factory(app, handle)
            if layer is not handle and entry.guard:
                layer = guarded(app, layer)
            handle = layer
        return handle


def guarded(app: App, layer: Next) -> Next:
    """`layer`, with what it raises turned into the app's error response."""
    error_response = app._error_response

    async def guard(request: Request) -> Response:
        try:
            return await layer(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await error_response(request, exc)

    return guard
