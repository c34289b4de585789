"""One rate limit as the routes count against it (`Limit`): its limiter (in this process
or in Redis), the request's key, the `RateLimit-*` headers and the 429; and the refusals
counted for `app.metrics()`."""

from __future__ import annotations

import collections
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from ..exceptions import ConfigurationError, HTTPException
from ..execution import Invoker
from ..http import Request
from ._config import RateLimitConfig
from ._keys import client_address, forwarded_client

if TYPE_CHECKING:
    from ..app import App
    from ..stores._redis import RedisStore
    from ._memory import MemoryLimiter, Outcome
    from ._redis import RedisBackend

# PERF: the header values of small counts, made once (str() of an int per header and
# request showed in bench_security.py's instruction counts).
NUMBERED = 4096
NUMBERS = tuple(str(n) for n in range(NUMBERED))
REMAINING = tuple(("ratelimit-remaining", n) for n in NUMBERS)
RESET = tuple(("ratelimit-reset", n) for n in NUMBERS)


def _ceil_s(ms: int) -> int:
    return -(-ms // 1000)


class Limit:
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
        remaining_s = NUMBERS[remaining] if remaining < NUMBERED else str(remaining)
        reset = -(-outcome.reset_ms // 1000)
        reset_s = NUMBERS[reset] if reset < NUMBERED else str(reset)
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


#: app -> every limit its routes count against (for the metrics: refusals by route)
_limits: weakref.WeakKeyDictionary[App, list[Limit]] = weakref.WeakKeyDictionary()


def _limits_of(app: App) -> list[Limit]:
    limits = _limits.get(app)
    if limits is None:
        limits = _limits[app] = []
        from ..metrics._sources import add_metric_source

        add_metric_source(app, "rate_limit", lambda: rate_limit_stats(limits), replace=True)
    return limits


def rate_limit_stats(limits: list[Limit]) -> dict[str, Any]:
    """Requests refused with 429, in all, by route and by limit (`app.metrics()`)."""
    by_route: collections.Counter[str] = collections.Counter()
    by_limit: dict[str, int] = {}
    for limit in limits:
        by_route.update(limit.rejected)
        name = f"{limit.scope} {limit.policy}"
        by_limit[name] = by_limit.get(name, 0) + sum(limit.rejected.values())
    return {"rejected": sum(by_route.values()), "by_route": dict(by_route), "by_limit": by_limit}
