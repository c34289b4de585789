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

import collections
import functools
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from .._pipeline import Wrapper
from ..exceptions import ConfigurationError, HTTPException
from ..execution import Invoker
from ..http import Request, Response
from ..security._routes import Coverage, PathSet
from ._config import RateLimitConfig, check_rate_limits
from ._keys import UNKNOWN, client_address, forwarded_client

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute, Next
    from ..app import App
    from ..stores._redis import RedisStore
    from ._memory import MemoryLimiter, Outcome
    from ._redis import RedisBackend

__all__ = ["AppRateLimit", "rate_limit_stage", "websocket_rate_limit"]


class AppRateLimit:
    """`app.enable_rate_limit(config, exempt=...)`: one budget per client for the app."""

    def __init__(self, config: Any, exempt: Sequence[str]) -> None:
        (self.config,) = check_rate_limits(config, "enable_rate_limit()")
        self.exempt = PathSet(exempt, "enable_rate_limit(exempt=...)")
        self.limit: _Limit | None = None  # made when the app starts (shared by its routes)


_monotonic_ns = time.monotonic_ns

# PERF: the header values of small counts, made once (str() of an int per header and
# request showed in bench_security.py's instruction counts).
_NUMBERED = 4096
_NUMBERS = tuple(str(n) for n in range(_NUMBERED))
_REMAINING = tuple(("ratelimit-remaining", n) for n in _NUMBERS)
_RESET = tuple(("ratelimit-reset", n) for n in _NUMBERS)


def _ceil_s(ms: int) -> int:
    return -(-ms // 1000)


class _Limit:
    """One limit as a route counts against it: the limiter, the key, the headers."""

    __slots__ = (
        "_x_headers",
        "address_hit",
        "bucket",
        "config",
        "count",
        "count_now",
        "limiter",
        "policy",
        "rejected",
        "scope",
        "str_limit",
    )

    def __init__(self, config: RateLimitConfig, app: App, scope: str) -> None:
        self.config = config
        self.scope = scope
        #: requests refused (429) by this limit, by route label (counted when refused only)
        self.rejected: collections.Counter[str] = collections.Counter()
        _limits_of(app).append(self)
        self.policy = config.policy
        self.str_limit = str(config.limit)
        self._x_headers = config.x_headers
        key, is_async = _key_function(config, app)
        #: Counting without a coroutine: an in-process limit with a sync key; and its
        #: `hit(key)` when the key is the connection's peer address.
        self.count_now: Callable[[Request], Outcome] | None = None
        self.address_hit: Callable[[str], Outcome] | None = None
        #: An in-process token bucket (the stage's fast path when keyed by address).
        self.bucket: MemoryLimiter | None = None
        if config.storage == "memory":
            _require("pyrate_limiter")
            from ._memory import MemoryLimiter

            memory = MemoryLimiter(config)
            self.limiter: Any = memory
            self.count = _memory_counter(memory, key, is_async)
            if not is_async:
                hit = memory.hit
                self.count_now = lambda request: hit(key(request))
                if key is client_address:
                    self.address_hit = hit
                    if config.algorithm == "token_bucket":
                        self.bucket = memory
        else:
            _require("redis")
            from ._redis import RedisLimiter

            redis = RedisLimiter(config, _backend(app, config), scope)
            self.limiter = redis
            self.count = _redis_counter(redis, key, is_async, config)

    def headers(self, outcome: Outcome, *, x_headers: bool = False) -> list[tuple[str, str]]:
        """`RateLimit-Limit`, `-Remaining` and `-Reset` for `outcome`, and their
        `X-RateLimit-*` spellings when the config asks for them (or `x_headers`)."""
        remaining = outcome.remaining
        remaining_s = _NUMBERS[remaining] if remaining < _NUMBERED else str(remaining)
        reset = -(-outcome.reset_ms // 1000)
        reset_s = _NUMBERS[reset] if reset < _NUMBERED else str(reset)
        limit = self.str_limit
        if not (x_headers or self._x_headers):
            return [
                ("ratelimit-limit", limit),
                ("ratelimit-remaining", remaining_s),
                ("ratelimit-reset", reset_s),
            ]
        return [
            ("ratelimit-limit", limit),
            ("ratelimit-remaining", remaining_s),
            ("ratelimit-reset", reset_s),
            ("x-ratelimit-limit", limit),
            ("x-ratelimit-remaining", remaining_s),
            ("x-ratelimit-reset", reset_s),
        ]

    def refusal(self, outcome: Outcome, route: str) -> HTTPException:
        self.rejected[route] += 1
        retry = max(1, _ceil_s(outcome.retry_ms))
        headers = dict(self.headers(outcome, x_headers=True))
        headers["retry-after"] = str(retry)
        headers["ratelimit-policy"] = self.policy
        detail = f"Too Many Requests: rate limit {self.policy} exceeded, retry in {retry} s"
        return HTTPException(429, detail, headers)


Counter = Callable[[Request], Awaitable["Outcome | None"]]


def _key_function(config: RateLimitConfig, app: App) -> tuple[Callable[[Request], Any], bool]:
    """The request's key: a sync function for the client address, or an async one (True)
    around the limit's own key function (sync or async, run by `ambi.execution`)."""
    address = forwarded_client(config.trusted_proxies) if config.trusted_proxies else client_address
    if config.key is None:
        return address, False
    invoker = Invoker(config.key, app.engine)

    async def user_key(request: Request) -> str:
        key = await invoker(request)
        return address(request) if key is None else str(key)

    return user_key, True


def _memory_counter(limiter: Any, key: Callable[[Request], Any], is_async: bool) -> Counter:
    hit = limiter.hit
    if is_async:

        async def count_async(request: Request) -> Outcome | None:
            return hit(await key(request))  # type: ignore[no-any-return]

        return count_async

    async def count(request: Request) -> Outcome | None:
        return hit(key(request))  # type: ignore[no-any-return]

    return count


def _redis_counter(
    limiter: Any, key: Callable[[Request], Any], is_async: bool, config: RateLimitConfig
) -> Counter:
    from ._redis import StorageUnavailable

    closed = config.failure_mode == "closed"

    async def count(request: Request) -> Outcome | None:
        name = await key(request) if is_async else key(request)
        try:
            return await limiter.hit(name)  # type: ignore[no-any-return]
        except StorageUnavailable:
            if closed:
                raise HTTPException(
                    503,
                    "Service Unavailable: the rate limiter cannot be reached",
                    {"retry-after": "1"},
                ) from None
            return None  # fail open: let it through, without rate-limit headers

    return count


def _require(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(
            f"rate limiting needs the {module!r} package: pip install 'ambi[ratelimit]'"
        )


#: app -> (storage, timeout) -> backend: one per app, Redis server (or store) and timeout.
_backends: weakref.WeakKeyDictionary[App, dict[tuple[object, float], RedisBackend]] = (
    weakref.WeakKeyDictionary()
)


def _backend(app: App, config: RateLimitConfig) -> RedisBackend:
    from ._redis import RedisBackend

    backends = _backends.setdefault(app, {})
    storage = config.storage
    name = (storage if isinstance(storage, str) else id(storage), config.timeout)
    backend = backends.get(name)
    if backend is None:
        if isinstance(storage, str):
            backend = RedisBackend.for_url(storage, config.timeout)
            app.add_event_handler("shutdown", backend.close)
        else:  # the app's own store: its owner closes it
            backend = RedisBackend(cast("RedisStore", storage), config.timeout)
        backends[name] = backend
    return backend


def _stage(limits: Sequence[tuple[_Limit, PathSet | None]], label: str) -> Wrapper:
    if len(limits) == 1 and limits[0][1] is None:
        return _one_limit(limits[0][0], label)
    return Wrapper(functools.partial(_several_limits, limits, label))


def _one_limit(only: _Limit, label: str) -> Wrapper:
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
    only: _Limit, count_now: Callable[[Request], Outcome], label: str, call_next: Next
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


def _one_counted_limit(only: _Limit, label: str, call_next: Next) -> Next:
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


def _one_address_bucket(only: _Limit, bucket: MemoryLimiter, label: str, call_next: Next) -> Next:
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
                _REMAINING[remaining]
                if remaining < _NUMBERED
                else ("ratelimit-remaining", str(remaining)),
                _RESET[reset] if reset < _NUMBERED else ("ratelimit-reset", str(reset)),
            )
        )
        return response

    return one_address_bucket


def _one_address_limit(
    only: _Limit, hit: Callable[[str], Outcome], label: str, call_next: Next
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
    limits: Sequence[tuple[_Limit, PathSet | None]], label: str, call_next: Next
) -> Next:
    async def several_limits(request: Request) -> Response:
        tightest: tuple[_Limit, Outcome] | None = None
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


def _on_error(exc: HTTPException, limit: _Limit, outcome: Outcome) -> None:
    for name, value in limit.headers(outcome):
        exc.headers.setdefault(name, value)


def _limits_for(
    path: str, configs: Sequence[RateLimitConfig], app: App, label: str
) -> list[tuple[_Limit, PathSet | None]]:
    """What a route at `path` counts against: the app's limits (minus their exempt paths;
    with the exempt set kept where it covers only some of the route's paths) and its own
    `configs` (the route's and its routers')."""
    limits: list[tuple[_Limit, PathSet | None]] = []
    for index, app_limit in enumerate(app.rate_limits):
        coverage = app_limit.exempt.covers(path)
        if coverage is Coverage.ALL:
            continue
        if app_limit.limit is None:
            app_limit.limit = _Limit(app_limit.config, app, f"app{index}")
        limits.append((app_limit.limit, app_limit.exempt if coverage is Coverage.SOME else None))
    for index, config in enumerate(configs):
        limits.append((_Limit(config, app, f"{label}#{index}"), None))
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


#: app -> every limit its routes count against (for the metrics: refusals by route)
_limits: weakref.WeakKeyDictionary[App, list[_Limit]] = weakref.WeakKeyDictionary()


def _limits_of(app: App) -> list[_Limit]:
    limits = _limits.get(app)
    if limits is None:
        limits = _limits[app] = []
        from ..metrics._sources import add_metric_source

        add_metric_source(app, "rate_limit", lambda: rate_limit_stats(limits), replace=True)
    return limits


def rate_limit_stats(limits: list[_Limit]) -> dict[str, Any]:
    """Requests refused with 429, in all, by route and by limit (`app.metrics()`)."""
    by_route: collections.Counter[str] = collections.Counter()
    by_limit: dict[str, int] = {}
    for limit in limits:
        by_route.update(limit.rejected)
        name = f"{limit.scope} {limit.policy}"
        by_limit[name] = by_limit.get(name, 0) + sum(limit.rejected.values())
    return {"rejected": sum(by_route.values()), "by_route": dict(by_route), "by_limit": by_limit}
