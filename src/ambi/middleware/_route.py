"""Route and router middleware: `middleware=[...]` on a route, on a `Router`, or given to
`include_router`, around only the routes it is given to.

The kinds are the app's: a function `mw(request, call_next)` (`async def`, or `def`: it
runs in the thread pool and its `call_next` blocks, as in `ambi.middleware._user`), an
ambi `Middleware` instance (`Timing(header="x-t")`), or an ambi `Middleware` subclass
taking no options. ASGI middleware wraps a whole app and is refused here (a
`ConfigurationError` naming `app.add_middleware`).

Order, outermost first:

    app middleware (the app chain, `ambi.middleware._chain`)
      routing (404 / 405 never reach route middleware)
        the route's pipeline: METRICS, TRACING,
          MIDDLEWARE: include_router(middleware=) -> Router(middleware=) -> the route's
            (within one list, the first given is outermost; for nested routers, the
            outer router's first)
          RATE_LIMIT, AUTHENTICATION, GUARDS, CACHE, LIMITS, body, handler

The rest of the pipeline's errors (401, 403, 413, 422, 429, 500...) come back to route
middleware as the app's error responses, so a header it adds is on them too; an
exception a route middleware raises becomes the app's error response for the layers
outside it. The chain is built once per route when the app starts (`StageOrder.MIDDLEWARE`,
a `Wrapper`): a route without middleware has no such layer.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError
from ..http import Request, Response
from ..servers._types import ClientDisconnected
from ._chain import Next
from ._user import Middleware, UserMiddleware, check_middleware_function, make_class_middleware

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute, Wrapper
    from ..app import App

__all__ = ["SyncAdmission", "checked_route_middleware", "route_middleware_stage"]


def checked_route_middleware(entries: Any, where: str) -> list[Callable[..., Any]]:
    """`middleware=` of a route or router as `(request, call_next)` callables (mistakes
    raise here, at registration)."""
    if isinstance(entries, str) or not isinstance(entries, Sequence):
        raise ConfigurationError(f"{where} takes a list of middleware, not {entries!r}")
    functions: list[Callable[..., Any]] = []
    for entry in entries:
        if isinstance(entry, Middleware):
            if type(entry).dispatch is Middleware.dispatch:
                raise ConfigurationError(
                    f"{where}: {type(entry).__qualname__} must define dispatch(request, call_next)"
                )
            functions.append(entry.dispatch)
        elif inspect.isclass(entry) and issubclass(entry, Middleware):
            functions.append(make_class_middleware(entry, {}).dispatch)
        elif inspect.isclass(entry):
            raise ConfigurationError(
                f"{where}: {entry.__name__} is not an ambi Middleware, so it would be ASGI "
                "middleware, which wraps a whole app: add it with "
                f"app.add_middleware({entry.__name__}, ...). Around some routes only, "
                "give a function mw(request, call_next) or an ambi Middleware"
            )
        else:
            check_middleware_function(entry, f"{where}: middleware")
            functions.append(entry)
    return functions


class SyncAdmission:
    """The bound on requests inside sync middleware (see `ambi.middleware._user`), shared
    by the app chain and route middleware: `sync_workers // (depth + 1)`, where `depth` is
    the most sync middleware one request can pass (the app's plus the deepest route's).
    A request takes it once, at its outermost sync middleware."""

    __slots__ = ("app_depth", "route_depth", "semaphore")

    def __init__(self) -> None:
        self.app_depth = 0
        self.route_depth = 0
        self.semaphore: asyncio.Semaphore | None = None

    def size(self, sync_workers: int) -> None:
        depth = self.app_depth + self.route_depth
        if depth and self.semaphore is None:
            self.semaphore = asyncio.Semaphore(max(1, sync_workers // (depth + 1)))


def _answering(app: App, inner: Next) -> Next:
    """`inner`, with what it raises turned into the app's error response: route
    middleware sees the pipeline's errors as responses, as app middleware does."""
    error_response = app._error_response

    async def answering(request: Request) -> Response:
        try:
            return await inner(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            return await error_response(request, exc)

    return answering


def _admitted(admission: SyncAdmission, inner: Next) -> Next:
    async def admitted(request: Request) -> Response:
        semaphore = admission.semaphore  # sized when the app starts, before any request
        async with semaphore:  # type: ignore[union-attr]  # sized at freeze
            return await inner(request)

    return admitted


def route_middleware_stage(route: CompiledRoute, app: App) -> Wrapper | None:
    """The `MIDDLEWARE` layer of `route`: its middleware around the rest of its pipeline
    (None without any)."""
    from .._pipeline import Wrapper

    functions = route.definition.options.get("middleware")
    if not functions:
        return None
    compiled = [UserMiddleware(fn, app.engine) for fn in functions]
    sync = [mw for mw in compiled if mw.is_sync]
    admission: SyncAdmission = app._sync_admission
    if len(sync) > admission.route_depth:
        if app._frozen and admission.semaphore is not None:
            raise ConfigurationError(
                f"{route.label}: added after startup with more sync middleware ({len(sync)}) "
                f"than any route had when the app started ({admission.route_depth}); "
                "register it before the app starts"
            )
        admission.route_depth = len(sync)
        if app._frozen:  # the first sync middleware in the app, added after startup
            admission.size(app.engine.sync_workers)
    # The app chain admits requests at its own outermost sync middleware, if it has any.
    gate_at = sync[0] if sync and not admission.app_depth else None

    def wrap(inner: Next) -> Next:
        handle = _answering(app, inner)
        for mw in reversed(compiled):  # the first given ends up outermost
            handle = mw.layer(app, handle, None)
            if mw is gate_at:
                handle = _admitted(admission, handle)
        return handle

    return Wrapper(wrap)
