"""The in-process limiters (pyrate-limiter's policies over ambi's per-key state), on a
clock the tests set: a token bucket bursts to its capacity then admits at its refill
rate; fixed windows reset on the clock; sliding windows roll."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import ConfigurationError
from ambi.ratelimit import RateLimitConfig
from ambi.ratelimit._memory import MemoryLimiter, Outcome


def _run(limiter: MemoryLimiter, times: list[int], key: str = "k") -> list[bool]:
    return [limiter.hit(key, t).allowed for t in times]


def test_token_bucket_bursts_then_refills_at_its_rate() -> None:
    limiter = MemoryLimiter(RateLimitConfig.token_bucket(capacity=5, refill_rate=2))
    start = 1_000_000
    # A burst of 5 at once, then nothing.
    burst = [limiter.hit("k", start) for _ in range(7)]
    assert [o.allowed for o in burst] == [True] * 5 + [False] * 2
    assert [o.remaining for o in burst] == [4, 3, 2, 1, 0, 0, 0]
    assert burst[5].retry_ms == 500  # one token every 500 ms
    assert burst[4].reset_ms == 2500  # 5 tokens to refill
    # Then exactly the refill rate: one request per 500 ms, not more.
    admitted = sum(limiter.hit("k", start + t).allowed for t in range(10, 5000, 10))
    assert admitted == 9  # tokens at 500, 1000, ..., 4500 ms
    # Idle long enough, the bucket is full again (and not fuller).
    later = start + 60_000
    assert sum(limiter.hit("k", later).allowed for _ in range(8)) == 5


def test_token_bucket_in_cellos_spelling() -> None:
    config = RateLimitConfig.token_bucket(requests=100, window=60)
    assert (config.limit, config.refill, config.window_ms) == (100, 100, 60_000)
    limiter = MemoryLimiter(config)
    assert sum(limiter.hit("k", 0).allowed for _ in range(150)) == 100
    assert limiter.hit("k", 599).allowed is False
    assert limiter.hit("k", 600).allowed is True  # 60 s / 100 = one per 600 ms


def test_keys_have_their_own_buckets() -> None:
    limiter = MemoryLimiter(RateLimitConfig.fixed_window(2, 1))
    assert _run(limiter, [0, 0, 0], "a") == [True, True, False]
    assert _run(limiter, [0, 0], "b") == [True, True]


def test_fixed_window_resets_on_the_clock() -> None:
    limiter = MemoryLimiter(RateLimitConfig.fixed_window(3, 10))
    assert _run(limiter, [9_000, 9_500, 9_900, 9_999]) == [True, True, True, False]
    refused = limiter.hit("k", 9_999)
    assert refused == Outcome(False, 0, 1, 1)
    # The next window starts at 10 000 ms: the whole budget is back at once.
    assert _run(limiter, [10_000, 10_001, 10_002, 10_003]) == [True, True, True, False]
    assert limiter.hit("k", 15_000) == Outcome(False, 0, 5_000, 5_000)


def test_sliding_window_rolls() -> None:
    limiter = MemoryLimiter(RateLimitConfig.sliding_window(3, 10))
    assert _run(limiter, [0, 4_000, 8_000, 9_000]) == [True, True, True, False]
    refused = limiter.hit("k", 9_000)
    assert refused.retry_ms == 1_001  # the request at 0 leaves the window after 10 000 ms
    assert _run(limiter, [10_000, 10_001, 13_999, 14_001]) == [False, True, False, True]


@given(st.lists(st.integers(min_value=0, max_value=30_000), min_size=1, max_size=80))
def test_sliding_window_never_admits_more_than_its_limit_in_any_window(raw: list[int]) -> None:
    times = sorted(raw)
    limiter = MemoryLimiter(RateLimitConfig.sliding_window(4, 5))
    admitted = [t for t, ok in zip(times, _run(limiter, times), strict=True) if ok]
    for t in admitted:
        assert sum(1 for a in admitted if t - 5_000 <= a <= t) <= 4


@given(st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=80))
def test_token_bucket_admits_no_more_than_capacity_plus_refill(raw: list[int]) -> None:
    times = sorted(raw)
    limiter = MemoryLimiter(RateLimitConfig.token_bucket(capacity=3, refill_rate=1))
    admitted = [t for t, ok in zip(times, _run(limiter, times), strict=True) if ok]
    for i, t in enumerate(admitted):
        for u in admitted[i:]:
            between = sum(1 for a in admitted if t <= a <= u)
            assert between <= 3 + (u - t) // 1000


def test_idle_keys_are_swept_as_the_table_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ambi.ratelimit._memory._SWEEP_FLOOR", 10)
    for config in (
        RateLimitConfig.token_bucket(capacity=2, refill_rate=10),
        RateLimitConfig.fixed_window(2, 1),
        RateLimitConfig.sliding_window(2, 1),
    ):
        limiter = MemoryLimiter(config)
        limiter._sweep_at = 10
        for n in range(10):
            limiter.hit(f"old{n}", 0)
        limiter.hit("new", 10_000)  # every old key is at rest by now
        assert set(limiter._states) == {"new"}, config


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RateLimitConfig.token_bucket(requests=10), "both requests= and window="),
        (RateLimitConfig.token_bucket, "capacity= and refill_rate="),
        (lambda: RateLimitConfig.token_bucket(10, 1, refill_rate=2), "capacity= and refill_rate="),
        (lambda: RateLimitConfig.token_bucket(0, 1), "positive integer"),
        (lambda: RateLimitConfig.token_bucket(capacity=True, refill_rate=1), "positive integer"),
        (lambda: RateLimitConfig.token_bucket(capacity=1, refill_rate=0), "positive number"),
        (lambda: RateLimitConfig.fixed_window(10, float("inf")), "finite"),
        (lambda: RateLimitConfig.fixed_window(10, 0.0001), "under 1 ms"),
        (lambda: RateLimitConfig.sliding_window(10, 1, storage="memcached://x"), "storage is"),
        (lambda: RateLimitConfig.sliding_window(10, 1, failure_mode="maybe"), "failure_mode"),
        (lambda: RateLimitConfig.sliding_window(10, 1, key="user"), "key must be a function"),
        (
            lambda: RateLimitConfig.sliding_window(10, 1, trusted_proxies="10.0.0.1"),
            "not the string",
        ),
        (lambda: RateLimitConfig.sliding_window(10, 1, trusted_proxies=["proxy"]), "not an IP"),
        (lambda: RateLimitConfig.sliding_window(10, 1, timeout=0), "positive number"),
    ],
)
def test_configuration_mistakes(make: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()  # type: ignore[operator]


def test_policies_and_fingerprints() -> None:
    assert RateLimitConfig.token_bucket(requests=100, window=60).policy == "100;w=60"
    bucket = RateLimitConfig.token_bucket(capacity=10, refill_rate=2.5)
    assert (bucket.refill, bucket.window_ms) == (5, 2000)
    assert bucket.policy == "10;w=2;burst=10;refill=5"
    assert RateLimitConfig.sliding_window(5, 0.5).policy == "5;w=0.5"
    assert RateLimitConfig.fixed_window(5, 1).fingerprint == "fixed_window:5:0:1000"
    assert "storage='memory'" in repr(RateLimitConfig.fixed_window(5, 1))


@given(
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=1, max_value=120_000),
    st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=60),
)
def test_inlined_bucket_is_pyrate_limiters(
    capacity: int, refill: int, window_ms: int, gaps: list[int]
) -> None:
    """The in-process token bucket decides, counts and times exactly as pyrate-limiter's
    `TokenBucket.step()` and `consumed()` do."""
    import math

    from pyrate_limiter import TokenBucket

    config = RateLimitConfig("token_bucket", capacity, window_ms, refill)
    limiter = MemoryLimiter(config)
    policy, rates = TokenBucket(), [limiter.rate]
    state = policy.initial(rates)
    now = 1_700_000_000_000
    for gap in gaps:
        now += gap
        new_state, decision = policy.step(rates, state, now, 1)
        if decision.allowed:
            state = new_state
        expected = Outcome(
            decision.allowed,
            capacity - policy.consumed(rates, state, now),
            max(0, math.ceil((state[0] - now * 1000) / 1000)),
            decision.retry_after_ms or 0,
        )
        assert limiter.hit("k", now) == expected
