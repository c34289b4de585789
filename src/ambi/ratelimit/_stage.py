"""The `RATE_LIMIT` stage: count the request against each limit that applies to the route
(the app's, minus its exempt paths; the route's and its routers'), refuse with 429 over
any, and put the remaining budget on the response.

Which limits apply is decided per route when the app starts; a route under none has no
stage (no cost). Headers: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
(seconds until the whole limit is available again; IETF
draft-ietf-httpapi-ratelimit-headers) on every limited response; a 429 adds their
`X-RateLimit-*` spellings (same values), `Retry-After` and `RateLimit-Policy`
(`limit;w=seconds`). `x_headers=True` on a limit sends the `X-RateLimit-*` spellings on
every response too (off by default: three more headers on every response, for clients
of the older convention). With several limits, the headers describe the one with the
least remaining.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._pipeline import Wrapper
from ..exceptions import HTTPException
from ..http import Request, Response
from ..security._routes import Coverage, PathSet
from ._config import RateLimitConfig, check_rate_limits
from ._keys import UNKNOWN
from ._limit import NUMBERED, REMAINING, RESET, Limit

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute, Next
    from ..app import App
    from ._memory import MemoryLimiter, Outcome

__all__ = ["AppRateLimit", "rate_limit_stage", "websocket_rate_limit"]


class AppRateLimit:
    """`app.enable_rate_limit(config, exempt=...)`: one budget per client for the app."""

    def __init__(self, config: Any, exempt: Sequence[str]) -> None:
        (self.config,) = check_rate_limits(config, "enable_rate_limit()")
        self.exempt = PathSet(exempt, "enable_rate_limit(exempt=...)")
        self.limit: Limit | None = None  # made when the app starts (shared by its routes)


_monotonic_ns = time.monotonic_ns


def _stage(limits: Sequence[tuple[Limit, PathSet | None]], label: str) -> Wrapper:
    if len(limits) == 1 and limits[0][1] is None:
        return _one_limit(limits[0][0], label)
    return Wrapper(functools.partial(_several_limits, limits, label))


def _one_limit(only: Limit, label: str) -> Wrapper:
    # PERF: each stage takes its next handler once (`Wrapper`), not through a partial per
    # request (bench_security.py --callgrind: /json-limited against /json).
    if only.bucket is not None:
        return Wrapper(functools.partial(_one_address_bucket, only, only.bucket, label))
    if only.address_hit is not None:
        return Wrapper(functools.partial(_one_address_limit, only, only.address_hit, label))
    if only.count_now is not None:
        return Wrapper(functools.partial(_one_memory_limit, only, only.count_now, label))
    return Wrapper(functools.partial(_one_counted_limit, only, label))


def _one_memory_limit(
    only: Limit, count_now: Callable[[Request], Outcome], label: str, call_next: Next
) -> Next:
    # PERF: an in-process limit with a sync key counts without a coroutine
    # (bench_security.py, callgrind: the stage's cost per request).
    async def one_memory_limit(request: Request) -> Response:
        outcome = count_now(request)
        if not outcome.allowed:
            raise only.refusal(outcome, label)
        try:
            response = await call_next(request)
        except HTTPException as exc:  # an error response still tells the budget
            _on_error(exc, only, outcome)
            raise
        response.headers.extend(only.headers(outcome))
        return response

    return one_memory_limit


def _one_counted_limit(only: Limit, label: str, call_next: Next) -> Next:
    count = only.count

    async def one_limit(request: Request) -> Response:
        outcome = await count(request)
        if outcome is None:  # the storage failed open
            return await call_next(request)
        if not outcome.allowed:
            raise only.refusal(outcome, label)
        try:
            response = await call_next(request)
        except HTTPException as exc:  # an error response still tells the budget
            _on_error(exc, only, outcome)
            raise
        response.headers.extend(only.headers(outcome))
        return response

    return one_limit


def _one_address_bucket(only: Limit, bucket: MemoryLimiter, label: str, call_next: Next) -> Next:
    """The app-wide default: an in-process token bucket keyed by peer address.

    `MemoryLimiter._token_bucket`'s arithmetic (pyrate-limiter's GCRA, integer µs on a
    millisecond clock), inlined for an allowed request; a refusal is decided and explained
    by `_token_bucket` itself (state unchanged). `tests/ratelimit/test_stage_bucket.py`
    checks both give the same decisions and headers.
    """
    states = bucket._states
    get = states.get
    burst, emission, tolerance = bucket._burst, bucket._emission_us, bucket._tolerance_us
    limit = ("ratelimit-limit", only.str_limit)
    x_headers = only._x_headers

    # PERF: the bucket counted here (no call, no `Outcome` for an allowed request; the
    # sweep checked only for a new key), the address read without making `request.client`,
    # the header pairs of small counts made once (bench_security.py --callgrind:
    # /json-limited and /json-limited-x against /json).
    async def one_address_bucket(request: Request) -> Response:
        key = request.client_host or UNKNOWN
        now_us = _monotonic_ns() // 1_000_000 * 1000
        tat = get(key)
        if tat is None:
            if len(states) >= bucket._sweep_at:
                bucket._grown(now_us // 1000)
            tat = now_us
        elif tat < now_us:
            tat = now_us
        tat += emission
        if tat - tolerance > now_us:
            raise only.refusal(bucket._token_bucket(key, now_us // 1000), label)
        states[key] = tat
        ahead = tat - now_us
        try:
            response = await call_next(request)
        except HTTPException as exc:  # an error response still tells the budget
            _on_error(exc, only, bucket.outcome_of(ahead))
            raise
        if x_headers:
            response.headers.extend(only.headers(bucket.outcome_of(ahead)))
            return response
        remaining = burst + (-ahead // emission)
        reset = -(-ahead // 1_000_000)  # s, rounded up (`outcome_of`'s reset in s)
        response.headers.extend(
            (
                limit,
                REMAINING[remaining]
                if remaining < NUMBERED
                else ("ratelimit-remaining", str(remaining)),
                RESET[reset] if reset < NUMBERED else ("ratelimit-reset", str(reset)),
            )
        )
        return response

    return one_address_bucket


def _one_address_limit(
    only: Limit, hit: Callable[[str], Outcome], label: str, call_next: Next
) -> Next:
    # PERF: the app-wide default (in-process, by peer address) reads the address and
    # counts inline: 2 fewer Python calls per request (bench_security.py --callgrind).
    async def one_address_limit(request: Request) -> Response:
        client = request.client
        outcome = hit(client[0] if client else UNKNOWN)
        if not outcome.allowed:
            raise only.refusal(outcome, label)
        try:
            response = await call_next(request)
        except HTTPException as exc:  # an error response still tells the budget
            _on_error(exc, only, outcome)
            raise
        response.headers.extend(only.headers(outcome))
        return response

    return one_address_limit


def _several_limits(
    limits: Sequence[tuple[Limit, PathSet | None]], label: str, call_next: Next
) -> Next:
    async def several_limits(request: Request) -> Response:
        tightest: tuple[Limit, Outcome] | None = None
        for limit, exempt in limits:
            if exempt is not None and exempt.matches(request.path):
                continue
            outcome = await limit.count(request)
            if outcome is None:
                continue
            if not outcome.allowed:
                raise limit.refusal(outcome, label)
            if tightest is None or outcome.remaining < tightest[1].remaining:
                tightest = (limit, outcome)
        if tightest is None:
            return await call_next(request)
        limit, outcome = tightest
        try:
            response = await call_next(request)
        except HTTPException as exc:
            _on_error(exc, limit, outcome)
            raise
        response.headers.extend(limit.headers(outcome))
        return response

    return several_limits


def _on_error(exc: HTTPException, limit: Limit, outcome: Outcome) -> None:
    for name, value in limit.headers(outcome):
        exc.headers.setdefault(name, value)


def _limits_for(
    path: str, configs: Sequence[RateLimitConfig], app: App, label: str
) -> list[tuple[Limit, PathSet | None]]:
    """What a route at `path` counts against: the app's limits (minus their exempt paths;
    with the exempt set kept where it covers only some of the route's paths) and its own
    `configs` (the route's and its routers')."""
    limits: list[tuple[Limit, PathSet | None]] = []
    for index, app_limit in enumerate(app.rate_limits):
        coverage = app_limit.exempt.covers(path)
        if coverage is Coverage.ALL:
            continue
        if app_limit.limit is None:
            app_limit.limit = Limit(app_limit.config, app, f"app{index}")
        limits.append((app_limit.limit, app_limit.exempt if coverage is Coverage.SOME else None))
    for index, config in enumerate(configs):
        limits.append((Limit(config, app, f"{label}#{index}"), None))
    return limits


def rate_limit_stage(route: CompiledRoute, app: App) -> Wrapper | None:
    """The `RATE_LIMIT` stage of `route`, or None when no limit applies to it."""
    configs = route.definition.options.get("rate_limit") or ()
    limits = _limits_for(route.definition.path, configs, app, route.label)
    return _stage(limits, route.label) if limits else None


def websocket_rate_limit(
    path: str, configs: Sequence[RateLimitConfig], app: App, label: str
) -> Callable[[Request], Awaitable[None]] | None:
    """The rate-limit check of the websocket route at `path` (each handshake counts once
    against the app's limits, minus their exempt paths, and the route's and its routers'),
    raising the 429 over any; None when no limit applies."""
    limits = _limits_for(path, configs, app, label)
    if not limits:
        return None

    async def rate_limited(connection: Request) -> None:
        for limit, exempt in limits:
            if exempt is not None and exempt.matches(connection.path):
                continue
            outcome = await limit.count(connection)
            if outcome is not None and not outcome.allowed:
                raise limit.refusal(outcome, label)

    return rate_limited
