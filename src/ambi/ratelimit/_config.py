"""`RateLimitConfig`: which algorithm, how much, keyed by what, stored where.

Only configuration lives here (no optional dependency is imported): the routing layer
checks `rate_limit=` options with it at registration.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from ..exceptions import ConfigurationError
from ..stores import Store

__all__ = ["Algorithm", "FailureMode", "RateLimitConfig", "check_rate_limits"]

Algorithm = Literal["token_bucket", "fixed_window", "sliding_window"]
FailureMode = Literal["open", "closed"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_TIMEOUT = 0.25  # seconds a request may wait for a shared storage at most


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"rate limit: {name} must be a positive integer, not {value!r}")
    return value


def _positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"rate limit: {name} must be a positive number, not {value!r}")
    if not math.isfinite(value):
        raise ConfigurationError(f"rate limit: {name} must be finite, not {value!r}")
    return float(value)


def _window_ms(window: Any) -> int:
    seconds = _positive_number(window, "window (seconds)")
    ms = round(seconds * 1000)
    if ms < 1:
        raise ConfigurationError(f"rate limit: a window of {window!r} s is under 1 ms")
    return ms


def _networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    if isinstance(proxies, str):
        raise ConfigurationError(
            f"trusted_proxies takes a list of addresses or networks, not the string {proxies!r}"
        )
    found = []
    for proxy in proxies:
        try:
            found.append(ipaddress.ip_network(proxy, strict=False))
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"trusted_proxies: {proxy!r} is not an IP address or network"
            ) from None
    return tuple(found)


def _is_redis_store(store: Store) -> bool:
    try:
        from ..stores._redis import RedisStore
    except ImportError:  # no `redis` installed: then no store is one
        return False
    return isinstance(store, RedisStore)


@dataclass(frozen=True, eq=False)
class RateLimitConfig:
    """One rate limit. Build it with `token_bucket`, `fixed_window` or `sliding_window`.

    Options every constructor takes:

    - `key`: a sync or async function of the request giving the bucket's key (a user id,
      an API key); `None` from it (or no `key`) means the client address.
    - `trusted_proxies`: addresses or networks (`"10.0.0.0/8"`) of your reverse proxies.
      The client address is the connection's peer, unless the peer is one of these:
      then `X-Forwarded-For` is read from the right, skipping trusted hops, so a client
      cannot choose its own address by sending the header.
    - `storage`: `"memory"` (this process; the default), `"redis://host:port/db"`
      (shared by every worker and host using it: one atomic script per request), or an
      `ambi.stores.RedisStore` (the same, sharing that store's connection pool with the
      cache and sessions that use it).
    - `failure_mode`: when the storage cannot be reached within `timeout` seconds,
      `"open"` lets the request through, `"closed"` answers 503. Either way it is logged.
    - `prefix`: the Redis key prefix.
    - `x_headers`: also send `X-RateLimit-Limit/Remaining/Reset` on allowed responses
      (every response carries `RateLimit-Limit/Remaining/Reset`; a 429 carries both).
    """

    algorithm: Algorithm
    #: Requests allowed per window; the bucket's capacity for a token bucket.
    limit: int
    #: The window in milliseconds; for a token bucket, the time `refill` tokens take.
    window_ms: int
    #: Token bucket: tokens added per `window_ms` (the refill rate is refill / window).
    refill: int = 0
    key: Callable[..., Any] | None = None
    storage: str | Store = "memory"
    trusted_proxies: tuple[Network, ...] = field(default=())
    failure_mode: FailureMode = "open"
    timeout: float = DEFAULT_TIMEOUT
    prefix: str = "ambi:rl"
    x_headers: bool = False

    def __post_init__(self) -> None:
        if self.key is not None and not callable(self.key):
            raise ConfigurationError(f"rate limit: key must be a function, not {self.key!r}")
        storage = self.storage
        if isinstance(storage, Store):
            if not _is_redis_store(storage):  # a limit needs an atomic script per request
                raise ConfigurationError(
                    f"rate limit: storage takes a RedisStore, not {storage!r} (an "
                    "in-process limit is storage='memory')"
                )
        elif storage != "memory" and not (
            isinstance(storage, str) and storage.startswith(("redis://", "rediss://", "unix://"))
        ):
            raise ConfigurationError(
                f"rate limit: storage is 'memory', a redis:// URL or a RedisStore, not {storage!r}"
            )
        if self.failure_mode not in ("open", "closed"):
            raise ConfigurationError(
                f"rate limit: failure_mode is 'open' or 'closed', not {self.failure_mode!r}"
            )
        _positive_number(self.timeout, "timeout")

    # Constructors -------------------------------------------------------------------------

    @classmethod
    def token_bucket(
        cls,
        requests: int | None = None,
        window: float | None = None,
        *,
        capacity: int | None = None,
        refill_rate: float | None = None,
        key: Callable[..., Any] | None = None,
        storage: str | Store = "memory",
        trusted_proxies: Sequence[str] = (),
        failure_mode: FailureMode = "open",
        timeout: float = DEFAULT_TIMEOUT,
        prefix: str = "ambi:rl",
        x_headers: bool = False,
    ) -> RateLimitConfig:
        """A bucket of `capacity` tokens refilled at `refill_rate` tokens per second; a
        request takes one. `token_bucket(requests=100, window=60)` (Cello's spelling) is a
        bucket of 100 refilled at 100 per 60 s; `capacity=` with it sets another burst."""
        if requests is not None or window is not None:
            if requests is None or window is None:
                raise ConfigurationError("token_bucket: give both requests= and window=")
            if refill_rate is not None:
                raise ConfigurationError(
                    "token_bucket: give requests= and window=, or capacity= and refill_rate="
                )
            refill = _positive_int(requests, "requests")
            window_ms = _window_ms(window)
            burst = refill if capacity is None else _positive_int(capacity, "capacity")
        else:
            if capacity is None or refill_rate is None:
                raise ConfigurationError(
                    "token_bucket: give requests= and window=, or capacity= and refill_rate="
                )
            burst = _positive_int(capacity, "capacity")
            rate = Fraction(_positive_number(refill_rate, "refill_rate")).limit_denominator(
                1_000_000
            )
            # `refill` tokens every `window_ms`: the rate as an exact fraction per ms.
            refill, window_ms = rate.numerator, rate.denominator * 1000
        return cls(
            "token_bucket",
            burst,
            window_ms,
            refill,
            key=key,
            storage=storage,
            trusted_proxies=_networks(trusted_proxies),
            failure_mode=failure_mode,
            timeout=timeout,
            prefix=prefix,
            x_headers=x_headers,
        )

    @classmethod
    def fixed_window(
        cls,
        requests: int,
        window: float,
        *,
        key: Callable[..., Any] | None = None,
        storage: str | Store = "memory",
        trusted_proxies: Sequence[str] = (),
        failure_mode: FailureMode = "open",
        timeout: float = DEFAULT_TIMEOUT,
        prefix: str = "ambi:rl",
        x_headers: bool = False,
    ) -> RateLimitConfig:
        """`requests` per `window` seconds, counted in windows aligned to the clock (all
        of a window's budget comes back when it ends: up to twice the rate can pass
        around a window's end)."""
        return cls(
            "fixed_window",
            _positive_int(requests, "requests"),
            _window_ms(window),
            key=key,
            storage=storage,
            trusted_proxies=_networks(trusted_proxies),
            failure_mode=failure_mode,
            timeout=timeout,
            prefix=prefix,
            x_headers=x_headers,
        )

    @classmethod
    def sliding_window(
        cls,
        requests: int,
        window: float,
        *,
        key: Callable[..., Any] | None = None,
        storage: str | Store = "memory",
        trusted_proxies: Sequence[str] = (),
        failure_mode: FailureMode = "open",
        timeout: float = DEFAULT_TIMEOUT,
        prefix: str = "ambi:rl",
        x_headers: bool = False,
    ) -> RateLimitConfig:
        """At most `requests` in any `window` seconds (an exact rolling log: one
        timestamp kept per request still inside the window)."""
        return cls(
            "sliding_window",
            _positive_int(requests, "requests"),
            _window_ms(window),
            key=key,
            storage=storage,
            trusted_proxies=_networks(trusted_proxies),
            failure_mode=failure_mode,
            timeout=timeout,
            prefix=prefix,
            x_headers=x_headers,
        )

    # Derived ------------------------------------------------------------------------------

    @property
    def policy(self) -> str:
        """The `RateLimit-Policy` header value: `limit;w=seconds`."""
        seconds = self.window_ms / 1000
        window = int(seconds) if seconds.is_integer() else seconds
        if self.algorithm == "token_bucket":
            if self.refill != self.limit:
                return f"{self.limit};w={window};burst={self.limit};refill={self.refill}"
            return f"{self.limit};w={window}"
        return f"{self.limit};w={window}"

    @property
    def fingerprint(self) -> str:
        """What identifies the limit's shape in storage keys (a changed limit starts new
        buckets rather than misreading the old ones)."""
        return f"{self.algorithm}:{self.limit}:{self.refill}:{self.window_ms}"

    def __repr__(self) -> str:
        return f"RateLimitConfig.{self.algorithm}({self.policy!r}, storage={self.storage!r})"


def check_rate_limits(value: Any, where: str) -> list[RateLimitConfig]:
    """`value` (one config or a list of them) as a list; `ConfigurationError` otherwise."""
    configs = list(value) if isinstance(value, list | tuple) else [value]
    for config in configs:
        if not isinstance(config, RateLimitConfig):
            raise ConfigurationError(
                f"{where} takes a RateLimitConfig (RateLimitConfig.token_bucket(...), "
                f"fixed_window(...), sliding_window(...)) or a list of them, not {config!r}"
            )
    return configs
