"""Per-route limits as pipeline stages: `timeout=` and `max_concurrency=`.

Each factory takes a compiled route and its app and gives a stage, `async (request,
call_next) -> response`, or None when the route does not use the feature (it then costs
nothing). The app puts them at `StageOrder.LIMITS`, around reading the body, validation,
the dependencies and the handler: dependencies count against the timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import ConfigurationError, HTTPException

if TYPE_CHECKING:
    from ..http import Request, Response
    from ..routing import RouteDef
    from ._engine import Engine

Next = Callable[["Request"], Awaitable["Response"]]
Stage = Callable[["Request", Next], Awaitable["Response"]]


class _App(Protocol):
    engine: Engine
    route_timeout: float | None


class _Route(Protocol):
    definition: RouteDef
    label: str  # "GET /items/{item_id}"


def _check_number(name: str, value: Any, where: str, *, integer: bool = False) -> None:
    valid_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not valid_type or not value > 0:
        kind = "a positive integer" if integer else "a positive number of seconds"
        raise ConfigurationError(f"{where}: {name} must be {kind} or None, got {value!r}")


def timeout_stage(route: _Route, app: _App) -> Stage | None:
    """`timeout=` (or the app's `route_timeout`): past it the client gets a 504.

    An `async def` handler is cancelled. A `def` handler's thread cannot be: the client is
    answered, the thread finishes in the background, and the pool counts it
    (`ThreadPool.late_finished`). Timeouts are counted in `engine.stats.timed_out`.
    """
    seconds = route.definition.options.get("timeout", app.route_timeout)
    if seconds is None:
        return None
    label = route.label
    _check_number("timeout", seconds, label)
    counts = app.engine.stats.timed_out

    async def timeout(request: Request, call_next: Next) -> Response:
        try:
            async with asyncio.timeout(seconds) as scope:
                return await call_next(request)
        except TimeoutError:
            if not scope.expired():
                raise  # the handler's own TimeoutError: not ours to answer
            counts[label] += 1
            raise HTTPException(504, f"the request did not finish within {seconds} s") from None

    return timeout


def concurrency_stage(route: _Route, app: _App) -> Stage | None:
    """`max_concurrency=N`: at most N requests of this route at once (per process); one
    more is answered 503 with Retry-After at once, never queued."""
    limit = route.definition.options.get("max_concurrency")
    if limit is None:
        return None
    label = route.label
    _check_number("max_concurrency", limit, label, integer=True)
    counts = app.engine.stats.over_limit
    running = 0

    async def max_concurrency(request: Request, call_next: Next) -> Response:
        nonlocal running
        if running >= limit:
            counts[label] += 1
            raise HTTPException(
                503, f"{label} is serving {limit} requests already", {"retry-after": "1"}
            )
        running += 1
        try:
            return await call_next(request)
        finally:
            running -= 1

    return max_concurrency


#: The factories, outermost first: a request refused for concurrency never starts its clock.
LIMIT_STAGES = (concurrency_stage, timeout_stage)
