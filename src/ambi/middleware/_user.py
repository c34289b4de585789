"""Middleware users write: functions (`@app.middleware("http")`), ambi middleware classes
(`app.add_middleware(MyMiddleware, **options)`), and `before_request` / `after_request`
hooks. Sync or async alike: each callable goes through `ambi.execution` (an `Invoker`).

A sync middleware runs in the app's thread pool, never on the loop. Its `call_next` is a
plain blocking function: it runs the rest of the chain on the app's loop through the
bridge (`ambi.bridge`, case 1: the worker thread waits, the loop does the work) and returns
the `Response`. So a sync middleware holds a pool thread while the request is inside it;
to keep a full pool from waiting on itself (every thread in a middleware, none left for
the handlers they wait for), the requests inside sync middleware at a time are bounded to
`sync_workers // (sync middleware count + 1)`: each of them needs at most one thread per
sync middleware plus one for its handler.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._pipeline import to_response
from ..bridge import smartasync
from ..exceptions import ConfigurationError
from ..execution import Engine, ExecutionKind, Invoker
from ..http import Request, Response
from ..servers._types import ClientDisconnected
from ._chain import Next

if TYPE_CHECKING:
    from ..app import App


class Middleware:
    """Base class of ambi class middleware: `app.add_middleware(MyMiddleware, **options)`.

    Options go to `__init__` (checked at registration); `dispatch(request, call_next)` is
    `async def` or a plain `def` (then it runs in the thread pool and `call_next` blocks),
    and returns a `Response`::

        class Timing(Middleware):
            def __init__(self, header: str = "x-time") -> None:
                self.header = header

            async def dispatch(self, request, call_next):
                started = time.perf_counter()
                response = await call_next(request)
                response.headers[self.header] = f"{time.perf_counter() - started:.6f}"
                return response
    """

    def dispatch(self, request: Request, call_next: Any) -> Any:
        raise NotImplementedError


def _not_a_response(name: str, value: Any) -> TypeError:
    return TypeError(f"middleware {name} returned {type(value).__name__}, not a Response")


class UserMiddleware:
    """One function middleware (or a class middleware's `dispatch`), compiled once."""

    __slots__ = ("invoker",)

    def __init__(self, fn: Callable[..., Any], engine: Engine) -> None:
        self.invoker = Invoker(fn, engine)

    @property
    def is_sync(self) -> bool:
        return self.invoker.kind is not ExecutionKind.ASYNC

    def layer(self, app: App, call_next: Next, admission: asyncio.Semaphore | None) -> Next:
        error_response = app._error_response
        engine = app.engine
        call = self.invoker.__call__  # PERF: the bound callable, not Invoker's slot lookup
        name = self.invoker.name
        after: Any = call_next
        if self.is_sync:
            after = _blocking(call_next)

        async def middleware(request: Request) -> Response:
            try:
                response = await call(request, after)
                if not isinstance(response, Response):
                    raise _not_a_response(name, response)
                if response.deferred:
                    await response.prepare(engine)
            except ClientDisconnected:
                raise
            except Exception as exc:
                return await error_response(request, exc)
            return response

        if admission is None:
            return middleware

        async def admitted(request: Request) -> Response:
            async with admission:
                return await middleware(request)

        return admitted


def _blocking(call_next: Next) -> Callable[[Request], Response]:
    """`call_next` for a sync middleware: runs the rest of the chain on the app's loop
    (through the bridge) and blocks the worker thread until the response is there."""

    async def rest_of_chain(request: Request) -> Response:
        return await call_next(request)

    run: Callable[[Request], Response] = smartasync(rest_of_chain).sync
    return run


def check_middleware_function(fn: Any, what: str) -> None:
    if not callable(fn):
        raise ConfigurationError(f"{what} must be callable, not {fn!r}")
    try:
        inspect.signature(fn).bind(None, None)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{what} {getattr(fn, '__qualname__', fn)!r} must take (request, call_next)"
        ) from None


def make_class_middleware(cls: type[Middleware], options: dict[str, Any]) -> Middleware:
    """Instantiate an ambi middleware class with its options (mistakes raise here)."""
    if cls.dispatch is Middleware.dispatch:
        raise ConfigurationError(f"{cls.__qualname__} must define dispatch(request, call_next)")
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as exc:
        raise ConfigurationError(f"{cls.__qualname__} does not take these options: {exc}") from None
    return cls(**options)


# before_request / after_request ----------------------------------------------------------


def _arity(fn: Callable[..., Any], allowed: tuple[int, ...], what: str, shapes: str) -> int:
    if not callable(fn):
        raise ConfigurationError(f"{what} hook must be callable, not {fn!r}")
    signature = inspect.signature(fn)
    for count in allowed:
        try:
            signature.bind(*([None] * count))
        except TypeError:
            continue
        return count
    raise ConfigurationError(f"{what} hook {getattr(fn, '__qualname__', fn)!r} must take {shapes}")


class Hook:
    """A before_request or after_request hook: its invoker and how many arguments it takes."""

    __slots__ = ("arity", "invoker")

    def __init__(self, fn: Callable[..., Any], engine: Engine, *, after: bool) -> None:
        if after:
            self.arity = _arity(fn, (2, 1), "after_request", "(request, response) or (response)")
        else:
            self.arity = _arity(fn, (1, 0), "before_request", "(request) or no argument")
        self.invoker = Invoker(fn, engine)

    def before(self, request: Request) -> Awaitable[Any]:
        return self.invoker(request) if self.arity else self.invoker()

    def after(self, request: Request, response: Response) -> Awaitable[Any]:
        if self.arity == 2:
            return self.invoker(request, response)
        return self.invoker(response)


def hooks_layer(app: App, call_next: Next, befores: list[Hook], afters: list[Hook]) -> Next:
    """One layer for every hook: before hooks in registration order (the first to return
    something answers the request: routing is skipped, after hooks still run), then after
    hooks in reverse registration order (each may return a response to replace it)."""
    error_response = app._error_response
    before_hooks = tuple(befores)
    after_hooks = tuple(reversed(afters))

    async def run_before(request: Request) -> Response:
        for hook in before_hooks:
            result = await hook.before(request)
            if result is not None:
                return to_response(result)
        return await call_next(request)

    async def hooks(request: Request) -> Response:
        try:
            response = await run_before(request)
        except ClientDisconnected:
            raise
        except Exception as exc:
            response = await error_response(request, exc)
        for hook in after_hooks:
            try:
                result = await hook.after(request, response)
                if result is not None:
                    if not isinstance(result, Response):
                        raise _not_a_response(hook.invoker.name, result)
                    response = result
            except ClientDisconnected:
                raise
            except Exception as exc:
                response = await error_response(request, exc)
        return response

    return hooks
