"""In-process buckets: pyrate-limiter's policies (`TokenBucket`, `FixedWindow`,
`SlidingWindowLog`) over per-key state kept here.

pyrate-limiter keeps one bucket object per key behind a `Limiter` with locks and a leak
thread; a web app needs thousands of short-lived keys on one event loop, so ambi applies
the policies directly to a dict of small states (no lock: everything here runs on the
loop) and sweeps idle keys out as the dict grows.

The windows call the policies' own methods. The token bucket, the default and the one on
every request of an app-wide limit, applies `TokenBucket.step`'s arithmetic inlined (the
same integer microseconds, emission interval rounded up): calling `step()` and
`consumed()` cost more than the rest of the stage together (PERF below), and
`tests/ratelimit/test_algorithms.py` checks the inlined bucket against pyrate-limiter's
`step()` and `consumed()` on random arrivals.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, NamedTuple

from pyrate_limiter import FixedWindow, Rate, SlidingWindowLog

from ._config import RateLimitConfig

__all__ = ["MemoryLimiter", "Outcome", "rate_of"]

_SWEEP_FLOOR = 4096  # keys kept before the first sweep for idle ones


class Outcome(NamedTuple):
    """One request counted against one limit."""

    allowed: bool
    remaining: int
    reset_ms: int  # until the whole limit is available again
    retry_ms: int  # refused: until a request would be allowed


def rate_of(config: RateLimitConfig) -> Rate:
    """The pyrate-limiter `Rate` of `config`."""
    if config.algorithm == "token_bucket":
        return Rate(config.refill, config.window_ms, burst=config.limit)
    return Rate(config.limit, config.window_ms)


_monotonic_ns = time.monotonic_ns
_new = tuple.__new__


def now_ms() -> int:
    return _monotonic_ns() // 1_000_000


class MemoryLimiter:
    """One limit's buckets in this process: `hit(key)` counts a request."""

    __slots__ = (
        "_burst",
        "_emission_us",
        "_states",
        "_sweep_at",
        "_tolerance_us",
        "config",
        "hit",
        "rate",
        "rates",
    )

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self.rate = rate_of(config)
        self.rates = [self.rate]
        # The token bucket's emission interval, as pyrate-limiter's GCRA computes it
        # (rounded up), and how far ahead of now the bucket may run: its burst.
        self._emission_us = -(-self.rate.interval * 1000 // self.rate.limit)
        self._burst = self.rate.burst
        self._tolerance_us = self._burst * self._emission_us
        self._states: dict[Any, Any] = {}
        self._sweep_at = _SWEEP_FLOOR
        self.hit = {
            "token_bucket": self._token_bucket,
            "fixed_window": self._fixed_window,
            "sliding_window": self._sliding_window,
        }[config.algorithm]

    def _grown(self, now: int) -> None:
        """Forget the keys at rest (their state equals a fresh one) once the dict grows."""
        states = self._states
        if self.config.algorithm == "token_bucket":
            idle = [k for k, tat in states.items() if tat <= now * 1000]
        elif self.config.algorithm == "fixed_window":
            end = _FIXED.window_start(self.rate, now)
            idle = [k for k, (start, _) in states.items() if start < end]
        else:
            start = _SLIDING.window_start(self.rate, now)
            idle = [k for k, log in states.items() if not log or log[-1] < start]
        for key in idle:
            del states[key]
        self._sweep_at = max(_SWEEP_FLOOR, 2 * len(states))

    def _token_bucket(self, key: Any, now: int | None = None) -> Outcome:
        # PERF: pyrate-limiter's GCRA `step()` + `consumed()` inlined: the limited /json
        # went from 29k to 22k more instructions than bare /json (bench_security.py
        # --callgrind --quick); the same decisions (test_inlined_bucket_is_pyrate_limiters).
        if now is None:
            now = _monotonic_ns() // 1_000_000
        now_us = now * 1000
        states = self._states
        tat = states.get(key, 0)  # the theoretical arrival time, µs
        if tat < now_us:  # noqa: PLR1730 - a comparison, not a call to max()
            tat = now_us
        emission = self._emission_us
        new_tat = tat + emission
        if new_tat - self._tolerance_us > now_us:  # refused: state unchanged
            ahead = tat - now_us
            retry = -(-(new_tat - self._tolerance_us - now_us) // 1000)
            return Outcome(False, self._burst + (-ahead // emission), -(-ahead // 1000), retry)
        if len(states) >= self._sweep_at and key not in states:
            self._grown(now)
        states[key] = new_tat
        ahead = new_tat - now_us
        # PERF: tuple.__new__ skips the NamedTuple's Python-level __new__.
        return _new(Outcome, (True, self._burst + (-ahead // emission), -(-ahead // 1000), 0))

    def outcome_of(self, ahead: int) -> Outcome:
        """The allowed `Outcome` of a token bucket now `ahead` µs ahead of the clock."""
        return Outcome(True, self._burst + (-ahead // self._emission_us), -(-ahead // 1000), 0)

    def _fixed_window(self, key: Any, now: int | None = None) -> Outcome:
        if now is None:
            now = now_ms()
        rate = self.rate
        start = _FIXED.window_start(rate, now)
        states = self._states
        entry = states.get(key)
        count = entry[1] if entry is not None and entry[0] == start else 0
        reset = _FIXED.retry_after(rate, now, None)  # the window's end
        if _FIXED.admit(self.rates, (count,), 1).allowed:
            if entry is None and len(states) >= self._sweep_at:
                self._grown(now)
            count += 1
            states[key] = (start, count)
            return Outcome(True, rate.limit - count, reset, 0)
        return Outcome(False, max(0, rate.limit - count), reset, reset)

    def _sliding_window(self, key: Any, now: int | None = None) -> Outcome:
        if now is None:
            now = now_ms()
        rate = self.rate
        states = self._states
        log: deque[int] | None = states.get(key)
        if log is None:
            if len(states) >= self._sweep_at:
                self._grown(now)
            log = states[key] = deque()
        start = _SLIDING.window_start(rate, now)
        while log and log[0] < start:
            log.popleft()
        if _SLIDING.admit(self.rates, (len(log),), 1).allowed:
            log.append(now)
            reset = max(log[-1], now) + rate.interval - now + 1
            return Outcome(True, rate.limit - len(log), reset, 0)
        offset = _SLIDING.blocking_offset(rate, 1)  # from the newest entry
        blocking = log[-1 - offset] if offset is not None and offset < len(log) else None
        retry = _SLIDING.retry_after(rate, now, blocking)
        return Outcome(False, 0, log[-1] + rate.interval - now + 1, retry)


_FIXED = FixedWindow()
_SLIDING = SlidingWindowLog()
