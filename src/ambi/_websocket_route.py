"""Websocket routes compiled for serving, and serving one connection (protocol-neutral).

A websocket handler is an `async def`; a `def` one is refused at registration. A
connection lives for minutes or hours: a `def` handler would hold one of the app's
`sync_workers` threads for all of it, so 40 idle clients would stop every `def` HTTP
handler. Blocking work inside an async handler goes to the pool per call, with
`await run_sync(fn, ...)`.

Parameters and `Depends` work as on HTTP routes (one validation for the handler and its
dependencies, app / router / route `dependencies=`, `app.dependency_overrides`); the
cleanup of dependencies with `yield`, and background tasks, run when the handler is done.

Before the handler runs, the handshake passes what applies to the route, in the order of
the HTTP pipeline (`StageOrder`), compiled when the app starts (a route under none of them
pays nothing): the rate limits (app, routers, route: one count per handshake), the JWT
verifier of `app.enable_jwt` (unless `exclude`d; the claims land on `websocket.auth`),
the guards (app, routers, route). A refusal is the denial of the handshake, never an
accepted-then-closed connection.

Errors become close frames or denials here, in one place:

| what happens                                   | the client gets                      |
|------------------------------------------------|--------------------------------------|
| no websocket route at the path                 | the handshake refused (HTTP 403)     |
| invalid path / query / header / cookie params  | close 1008 before the accept (403)   |
| `HTTPException` before the accept (a rate      | the denial response*: its status,    |
| limit, the JWT check, a guard, a dependency)   | headers and `{"detail": ...}` body   |
| `HTTPException` after the accept               | close 1008                           |
| `WebSocketException(code, reason)`             | close `code`, `reason`               |
| `WebSocketDisconnect` escaping the handler     | nothing more: the connection is over |
| any other exception (logged)                   | close 1011 (before the accept: 403)  |
| the handler returns                            | close 1000 (never accepted: 403)     |

*Over ASGI with the server's websocket denial-response extension (uvicorn, Granian);
without it, close 1008 (HTTP 403). Over Granian's RSGI interface: the status alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from ._pipeline import DependencyOverrides
from ._pipeline._deps import DependencyRunner
from ._signature import HandlerPlan, compile_plan
from .exception_handlers import http_error_response
from .exceptions import (
    ConfigurationError,
    HTTPException,
    RequestValidationError,
    SignatureError,
    WebSocketDisconnect,
    WebSocketException,
)
from .execution import ExecutionKind, Invoker
from .http import Request, WebSocket, WebSocketState
from .routing import Match, Matcher, PathTemplate, WebSocketRouteDef, parse_template

if TYPE_CHECKING:
    from .app import App

logger = logging.getLogger("ambi.websocket")

#: A check the handshake passes before the handler runs (raises `HTTPException` to refuse).
Admission = Callable[[Request], Awaitable[None] | None]

#: The matcher key of websocket routes (they live in a matcher of their own).
_KIND = "WEBSOCKET"


def _summary(errors: list[dict[str, Any]]) -> str:
    """A close reason for a 1008: the first validation error, in one line."""
    first = errors[0] if errors else {}
    loc = ".".join(str(part) for part in first.get("loc", ()))
    return f"{loc}: {first.get('msg', 'invalid')}" if loc else str(first.get("msg", "invalid"))


class CompiledWebSocketRoute:
    """One websocket route, ready to serve: `await route(websocket)`."""

    __slots__ = (
        "_admission",
        "_dependencies",
        "_overridden",
        "_overrides",
        "_runner",
        "definition",
        "invoker",
        "label",
        "max_size",
        "plan",
        "template",
    )

    def __init__(self, definition: WebSocketRouteDef, app: App) -> None:
        where = self.label = f"WEBSOCKET {definition.path}"
        self.definition = definition
        self.invoker = Invoker(definition.endpoint, app.engine)
        if self.invoker.kind is not ExecutionKind.ASYNC:
            raise ConfigurationError(
                f"{where}: websocket handlers must be `async def`. A connection lasts as long "
                "as the client stays, and a `def` handler would hold a worker thread for all "
                "of it; call blocking code with `await run_sync(fn, ...)` instead"
            )
        self.template: PathTemplate = parse_template(definition.path)
        options = definition.options
        self._dependencies = (*app.dependencies, *options.get("dependencies", ()))
        self._overrides: DependencyOverrides = app.dependency_overrides
        self._overridden: tuple[int, DependencyRunner] | None = None
        self.plan: HandlerPlan = self._compile(None)
        if self.plan.body_params or self.plan.reads_form:
            names = [s.name for s in self.plan.body_params] + [
                s.name for s in self.plan.params if s.loc == "body"
            ]
            raise SignatureError(
                f"{where}: a websocket handshake has no body, so {', '.join(names)} cannot be "
                "read from one; receive messages with websocket.receive_json() instead"
            )
        self._runner: DependencyRunner | None = None
        if self.plan.dependencies:
            self._runner = DependencyRunner(self.plan, self.invoker, app.engine, where)
        max_size = options.get("max_size", app.websocket_max_size)
        if max_size is not None and max_size < 1:
            raise ConfigurationError(f"{where}: max_size must be at least 1, got {max_size}")
        self.max_size = max_size
        self._admission: tuple[Admission, ...] = ()

    def freeze(self, app: App) -> None:
        """Compile the checks of the handshake from the features the app now has."""
        from .ratelimit._stage import websocket_rate_limit
        from .security._guards import guard_check

        options = self.definition.options
        path = self.definition.path
        checks = (
            websocket_rate_limit(path, options.get("rate_limit") or (), app, self.label),
            app.jwt.websocket_check(path) if app.jwt is not None else None,
            guard_check(options.get("guards", ()), app),
        )
        self._admission = tuple(check for check in checks if check is not None)

    async def _admit(self, connection: Request) -> None:
        for check in self._admission:
            pending = check(connection)
            if pending is not None:
                await pending

    def _compile(self, overrides: dict[Any, Any] | None) -> HandlerPlan:
        return compile_plan(
            self.definition.endpoint,
            self.template.param_types(),
            where=self.label,
            dependencies=self._dependencies,
            overrides=overrides,
            websocket=True,
        )

    def _runner_now(self) -> DependencyRunner | None:
        """The dependency runner for the app's current overrides (recompiled once per
        change of `app.dependency_overrides`)."""
        overrides = self._overrides
        if self._runner is None or not overrides:
            return self._runner
        cached = self._overridden
        if cached is None or cached[0] != overrides.version:
            plan = self._compile(dict(overrides))
            runner = DependencyRunner(plan, self.invoker, self.invoker.engine, self.label)
            self._overridden = cached = (overrides.version, runner)
        return cached[1]

    async def __call__(self, websocket: WebSocket) -> None:
        websocket.max_size = self.max_size
        # The plan's getters and the dependency runner read path_params, query_params,
        # headers, cookies and `_after`, which a WebSocket has as a Request does (body
        # sources are refused above).
        connection = cast(Request, websocket)
        try:
            if self._admission:
                await self._admit(connection)
            runner = self._runner_now()
            if runner is not None:
                await runner(connection)
            elif self.plan.only_request:
                await (self.invoker(websocket) if self.plan.request_names else self.invoker())
            else:
                await self.invoker(**self.plan.extract(connection))
        except WebSocketDisconnect:
            pass  # the connection is over: nothing to send
        except RequestValidationError as exc:
            await websocket.close(1008, _summary(exc.errors()))
        except WebSocketException as exc:
            await websocket.close(exc.code, exc.reason)
        except HTTPException as exc:  # a check or a dependency refusing
            await _refuse(websocket, exc)
        except Exception:
            logger.exception("unhandled error in websocket handler %s", self.invoker.name)
            await websocket.close(1011, "Internal Server Error")
        else:
            await websocket.close(1000)  # does nothing when the handler closed it

    def __repr__(self) -> str:
        return f"<CompiledWebSocketRoute {self.definition.path}>"


async def _refuse(websocket: WebSocket, exc: HTTPException) -> None:
    """Deny the handshake with `exc`'s response where the wire can; otherwise (or once
    accepted: a policy violation) close with 1008."""
    connecting = websocket.application_state is WebSocketState.CONNECTING
    if connecting and await websocket._deny(http_error_response(exc)):
        return
    await websocket.close(1008, str(exc.detail))


class WebSocketRoutes:
    """An app's websocket routes: compiled at registration, matched per connection."""

    __slots__ = ("compiled", "matcher")

    def __init__(self) -> None:
        self.compiled: list[CompiledWebSocketRoute] = []
        self.matcher: Matcher[CompiledWebSocketRoute] = Matcher()

    def add(self, route: WebSocketRouteDef, app: App) -> None:
        """Compile `route` and make it findable (a path taken twice raises here)."""
        compiled = CompiledWebSocketRoute(route, app)
        self.matcher.add(compiled.template, {_KIND}, compiled)
        self.compiled.append(compiled)
        if app._frozen:  # added after startup: its checks now
            compiled.freeze(app)

    def freeze(self, app: App) -> None:
        for compiled in self.compiled:
            compiled.freeze(app)


async def serve_websocket(app: App, websocket: WebSocket) -> None:
    """Route `websocket` and run its handler; refuse the handshake when no route matches."""
    if not app._frozen:  # a connection before startup: put the app together first
        app.freeze()
    root, path = app.root_path, websocket.path
    if root:  # routed without the app's root_path, as HTTP requests (App._route_under_root)
        if path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
            websocket.path = path[len(root) :] or "/"
        websocket.root_path = root
    found = app.websockets.matcher.match(_KIND, websocket.path)
    if not isinstance(found, Match):
        await websocket.close(1000)  # before the accept: the handshake is refused (403)
        return
    websocket.path_params = found.params
    try:
        await found.value(websocket)
    finally:
        await websocket.finish()  # dependency cleanup, background tasks
