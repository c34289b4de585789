"""The server side of `App`: the ASGI and RSGI entry points, `listen()`, and the request
path from the server to a route's pipeline (routing, the root path, mounts and trailing-slash
redirects, errors turned into responses)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._pipeline import CompiledRoute, to_response
from .._slashes import slash_redirect
from ..exception_handlers import http_error_response
from ..exceptions import HTTPException
from ..execution import RunningRoute, running_route
from ..http import Request, Response
from ..http._context import set_current_request
from ..middleware._asgi import ASGIApp, build_asgi_entry
from ..routing import MethodNotAllowed
from ..servers import _ws_asgi, _ws_rsgi
from ..servers import asgi as _asgi
from ..servers import rsgi as _rsgi
from ..servers._types import (
    ASGIReceive,
    ASGIScope,
    ASGISend,
    ClientDisconnected,
    RSGIProtocol,
    RSGIScope,
)
from ..servers._ws_rsgi_asgi import serve_through_asgi

if TYPE_CHECKING:
    from .._mount import Mounts
    from ..execution import Engine, Invoker
    from ..middleware._chain import Next
    from ..routing import Matcher

logger = logging.getLogger("ambi.app")


async def _nothing() -> None:
    """What `__rsgi__` gives for a protocol it does not serve."""


def running_request(frame: Mapping[str, Any]) -> RunningRoute:
    """The request an `App.dispatch` frame serves (for the loop-blocking detector)."""
    request: Request = frame["request"]
    route = getattr(frame.get("found"), "value", None)
    label = route.label if isinstance(route, CompiledRoute) else "(routing)"
    return RunningRoute(label, request.method, request.path)


class ServingMixin:
    """How a request reaches `App` and its route, and how errors become responses."""

    engine: Engine
    dispatch: Next
    root_path: str
    _frozen: bool
    _matcher: Matcher[CompiledRoute]
    _mounts: Mounts
    _asgi_middleware: list[tuple[type[Any], dict[str, Any]]]
    _asgi_entry: ASGIApp | None
    _rsgi_via_asgi: Next

    if TYPE_CHECKING:

        @property
        def redirect_slashes(self) -> bool | None: ...

        @property
        def _routing(self) -> Callable[[Request], Awaitable[Response]]: ...

        def freeze(self) -> None: ...

        def _handler_for(self, exc: Exception) -> Invoker | None: ...

        def _server_error(self, request: Request, exc: BaseException) -> Response: ...

    # The request path --------------------------------------------------------------------

    @running_route(running_request)
    async def _route(self, request: Request) -> Response:
        """Route `request`, run its handler, and turn any error into a response."""
        try:
            found = self._matcher.match(request.method, request.path)
            if found is None:
                return await self._not_routed(request)
            if isinstance(found, MethodNotAllowed):
                raise HTTPException(405, headers={"allow": ", ".join(sorted(found.allowed))})
            request.path_params = found.params
            request.route = found.value
            set_current_request(request)
            response = await found.value.handle(request)
            if response.deferred:
                await response.prepare(self.engine)
            return response
        except ClientDisconnected:
            raise  # nobody to answer: the adapter drops the request quietly
        except Exception as exc:
            return await self._error_response(request, exc)

    async def _route_under_root(self, request: Request) -> Response:
        """`_route` for an app with a `root_path` (the prefix a proxy serves it under):
        routed without the prefix (taken off the path when the proxy left it on), and
        `request.root_path` holds it, so that `request.url`, redirects and the docs pages
        name the URL the client sees."""
        root, path = self.root_path, request.path
        if path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
            request.path = path[len(root) :] or "/"
        request.root_path += root
        return await self._routing(request)

    async def _not_routed(self, request: Request) -> Response:
        """No route takes the path: a mount, the same path with(out) a trailing slash
        (a 307 redirect, as Starlette's `redirect_slashes`), or a 404."""
        if self._mounts.find(request.path) is None:
            redirect = slash_redirect(self._matcher, request, self.redirect_slashes is not False)
            if redirect is not None:
                return redirect
        return await self._mounts.serve(request)  # 404 when no mount takes it

    async def _error_response(self, request: Request, exc: Exception) -> Response:
        handler = self._handler_for(exc)
        if handler is not None:
            try:
                return to_response(await handler(request, exc))
            except Exception as handler_exc:
                logger.exception("exception handler %s failed", handler.name)
                return self._server_error(request, handler_exc)
        if isinstance(exc, HTTPException):
            try:
                return http_error_response(exc)
            except Exception as render_exc:
                logger.exception("could not render the error response for %r", exc)
                return self._server_error(request, render_exc)
        logger.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
        return self._server_error(request, exc)

    async def _dispatch_unfrozen(self, request: Request) -> Response:
        """A request before startup (a test client used without `with`): put the app
        together first, so its stages and middleware apply from the first request on."""
        if not self._frozen:
            self.freeze()
        return await self.dispatch(request)

    # Servers ------------------------------------------------------------------------------

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        """The ASGI 3 entry point."""
        if self._asgi_middleware:
            await self._asgi_stack()(scope, receive, send)
            return
        if scope["type"] == "http":  # PERF: one coroutine less (bench_request over ASGI)
            await _asgi.serve_http(self, scope, receive, send)  # type: ignore[arg-type]
            return
        await self._serve_asgi(scope, receive, send)

    def _asgi_stack(self) -> ASGIApp:
        entry = self._asgi_entry
        if entry is None:  # the first call, before startup: the stack is fixed from here on
            entry = build_asgi_entry(self, self._serve_asgi)  # type: ignore[arg-type]
            self._asgi_entry = entry
        return entry

    async def _serve_asgi(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            await _asgi.serve_http(self, scope, receive, send)  # type: ignore[arg-type]
        elif kind == "lifespan":
            await _asgi.serve_lifespan(self, receive, send)  # type: ignore[arg-type]
        elif kind == "websocket":
            await _ws_asgi.serve(self, scope, receive, send)  # type: ignore[arg-type]

    def __rsgi__(self, scope: RSGIScope, proto: RSGIProtocol) -> Awaitable[None]:
        """The RSGI entry point (Granian): the adapter's coroutine for the request.

        # PERF: a plain function giving the adapter's coroutine, not a coroutine awaiting
        # it: one coroutine less per request (bench_instructions "GET /json").
        """
        if scope.proto == "http":
            if self._asgi_middleware:  # bridged: ASGI middleware applies over RSGI too
                return _rsgi.serve_http(
                    self,  # type: ignore[arg-type]
                    scope,
                    proto,
                    self._rsgi_via_asgi,
                )
            return _rsgi.serve_http(self, scope, proto)  # type: ignore[arg-type]
        if scope.proto == "ws":
            if self._asgi_middleware:  # bridged: ASGI middleware wraps websockets too
                return serve_through_asgi(self, scope, proto)  # type: ignore[arg-type]
            return _ws_rsgi.serve(self, scope, proto)  # type: ignore[arg-type]
        return _nothing()

    def __rsgi_init__(self, loop: Any) -> None:
        _rsgi.init(self, loop)  # type: ignore[arg-type]

    def __rsgi_del__(self, loop: Any) -> None:
        _rsgi.close(self, loop)  # type: ignore[arg-type]

    def listen(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: int = 1,
        *,
        server: str = "granian",
        interface: str | None = None,
        log_level: str = "info",
        access_log: bool = False,
        websocket_ping_interval: float | None = None,
        websocket_ping_timeout: float | None = None,
    ) -> None:
        """Serve the app with a production server: Granian over RSGI by default (over ASGI
        when the app has ASGI middleware, which is cheaper there than bridged).

        `websocket_ping_interval` / `websocket_ping_timeout` (seconds) set uvicorn's pings
        of idle websockets (its default: 20 / 20); Granian sends none, and refuses them.
        """
        from ..servers._runner import WebSocketSettings, serve

        serve(
            self,  # type: ignore[arg-type]
            host=host,
            port=port,
            workers=workers,
            server=server,
            interface=interface,
            log_level=log_level,
            access_log=access_log,
            websockets=WebSocketSettings(websocket_ping_interval, websocket_ping_timeout),
        )
