"""Websocket routes compiled for serving, and serving one connection (protocol-neutral).

A websocket handler is an `async def`; a `def` one is refused at registration. A
connection lives for minutes or hours: a `def` handler would hold one of the app's
`sync_workers` threads for all of it, so 40 idle clients would stop every `def` HTTP
handler. Blocking work inside an async handler goes to the pool per call, with
`await run_sync(fn, ...)`.

Errors become close frames here, in one place:

| what happens                                   | the client gets                      |
|------------------------------------------------|--------------------------------------|
| no websocket route at the path                 | the handshake refused (HTTP 403)     |
| invalid path / query / header / cookie params  | close 1008 before the accept (403)   |
| `HTTPException` (a guard, a dependency)        | close 1008 (before the accept: 403)  |
| `WebSocketException(code, reason)`             | close `code`, `reason`               |
| `WebSocketDisconnect` escaping the handler     | nothing more: the connection is over |
| any other exception (logged)                   | close 1011 (before the accept: 403)  |
| the handler returns                            | close 1000 (never accepted: 403)     |
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from ._signature import HandlerPlan, compile_plan
from .exceptions import (
    ConfigurationError,
    HTTPException,
    RequestValidationError,
    SignatureError,
    WebSocketDisconnect,
    WebSocketException,
)
from .execution import ExecutionKind, Invoker
from .http import Request, WebSocket
from .routing import Match, Matcher, WebSocketRouteDef, parse_template

if TYPE_CHECKING:
    from .app import App

logger = logging.getLogger("ambi.websocket")

#: The matcher key of websocket routes (they live in a matcher of their own).
_KIND = "WEBSOCKET"


def _summary(errors: list[dict[str, Any]]) -> str:
    """A close reason for a 1008: the first validation error, in one line."""
    first = errors[0] if errors else {}
    loc = ".".join(str(part) for part in first.get("loc", ()))
    return f"{loc}: {first.get('msg', 'invalid')}" if loc else str(first.get("msg", "invalid"))


class CompiledWebSocketRoute:
    """One websocket route, ready to serve: `await route(websocket)`."""

    __slots__ = ("definition", "invoker", "max_size", "plan")

    def __init__(self, definition: WebSocketRouteDef, app: App) -> None:
        where = f"WEBSOCKET {definition.path}"
        self.definition = definition
        self.invoker = Invoker(definition.endpoint, app.engine)
        if self.invoker.kind is not ExecutionKind.ASYNC:
            raise ConfigurationError(
                f"{where}: websocket handlers must be `async def`. A connection lasts as long "
                "as the client stays, and a `def` handler would hold a worker thread for all "
                "of it; call blocking code with `await run_sync(fn, ...)` instead"
            )
        template = parse_template(definition.path)
        self.plan: HandlerPlan = compile_plan(
            definition.endpoint, template.param_types(), where=where, websocket=True
        )
        if self.plan.body_params or self.plan.reads_form:
            names = [s.name for s in self.plan.body_params] + [
                s.name for s in self.plan.params if s.loc == "body"
            ]
            raise SignatureError(
                f"{where}: a websocket handshake has no body, so {', '.join(names)} cannot be "
                "read from one; receive messages with websocket.receive_json() instead"
            )
        max_size = definition.options.get("max_size", app.websocket_max_size)
        if max_size is not None and max_size < 1:
            raise ConfigurationError(f"{where}: max_size must be at least 1, got {max_size}")
        self.max_size = max_size

    async def __call__(self, websocket: WebSocket) -> None:
        websocket.max_size = self.max_size
        plan = self.plan
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = {}
        try:
            if plan.only_request:
                args = (websocket,) if plan.request_names else ()
            else:
                # The getters read path_params, query_params, headers and cookies, which a
                # WebSocket has as a Request does (body sources are refused above).
                kwargs = plan.extract(cast(Request, websocket))
        except RequestValidationError as exc:
            await websocket.close(1008, _summary(exc.errors))
            return
        except HTTPException as exc:
            await websocket.close(1008, str(exc.detail))
            return
        await self._run(websocket, args, kwargs)

    async def _run(
        self, websocket: WebSocket, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            await self.invoker(*args, **kwargs)
        except WebSocketDisconnect:
            pass  # the connection is over: nothing to send
        except WebSocketException as exc:
            await websocket.close(exc.code, exc.reason)
        except HTTPException as exc:
            await websocket.close(1008, str(exc.detail))
        except Exception:
            logger.exception("unhandled error in websocket handler %s", self.invoker.name)
            await websocket.close(1011, "Internal Server Error")
        else:
            await websocket.close(1000)  # does nothing when the handler closed it

    def __repr__(self) -> str:
        return f"<CompiledWebSocketRoute {self.definition.path}>"


class WebSocketRoutes:
    """An app's websocket routes: compiled at registration, matched per connection."""

    __slots__ = ("compiled", "matcher")

    def __init__(self) -> None:
        self.compiled: list[CompiledWebSocketRoute] = []
        self.matcher: Matcher[CompiledWebSocketRoute] = Matcher()

    def add(self, route: WebSocketRouteDef, app: App) -> None:
        """Compile `route` and make it findable (a path taken twice raises here)."""
        compiled = CompiledWebSocketRoute(route, app)
        self.matcher.add(parse_template(route.path), {_KIND}, compiled)
        self.compiled.append(compiled)


async def serve_websocket(app: App, websocket: WebSocket) -> None:
    """Route `websocket` and run its handler; refuse the handshake when no route matches."""
    found = app.websockets.matcher.match(_KIND, websocket.path)
    if not isinstance(found, Match):
        await websocket.close(1000)  # before the accept: the handshake is refused (403)
        return
    websocket.path_params = found.params
    await found.value(websocket)
