"""Rate limiting: `app.enable_rate_limit(RateLimitConfig.token_bucket(requests=100,
window=60))`, and `rate_limit=` on routes and routers.

    from ambi.ratelimit import RateLimitConfig

    app.enable_rate_limit(RateLimitConfig.token_bucket(requests=100, window=60),
                          exempt=["/health", "/docs*"])

    @app.post("/login", rate_limit=RateLimitConfig.sliding_window(5, 60))
    def login(...): ...

    per_user = RateLimitConfig.fixed_window(1000, 3600, key=current_user_id,
                                            storage="redis://127.0.0.1:6379/0")

Algorithms: `token_bucket(requests=, window=)` or `token_bucket(capacity=, refill_rate=)`
(a burst up to the capacity, then the refill rate), `fixed_window(requests, window)`
(clock-aligned windows), `sliding_window(requests, window)` (exact rolling log). Each
client (its address; behind `trusted_proxies`, the address they report) has its own
bucket, or each value of the limit's `key` function. Over the limit: 429 with
`Retry-After`; every limited response carries `RateLimit-*` and `X-RateLimit-*` headers
(see `_stage`). Storage: this process (`"memory"`, the default), or Redis
(`storage="redis://..."`, or `storage=` an `ambi.stores.RedisStore` to share its pool:
one atomic Lua script per request, bounded by `timeout`, failing open or closed as
configured).

## The algorithm library: pyrate-limiter, not limits

Both were compared in their current releases (pyrate-limiter 4.5, limits 5.8):

- `limits` implements fixed window, moving (sliding log) window and sliding window
  counter, with Redis, Memcached, MongoDB and memory storages, but NO token bucket;
  and in Redis its `hit()` answers only allowed / refused: the remaining count and the
  reset time take a second round trip (`get_window_stats`).
- `pyrate-limiter` implements a real token bucket (as GCRA: one number of state per key,
  the wait in closed form), fixed window and sliding window log, as policies separate
  from their storage, with in-memory, multiprocess, SQLite, Postgres and Redis stores.

The seed's own spelling is a token bucket, so pyrate-limiter: its `TokenBucket`,
`FixedWindow` and `SlidingWindowLog` policies make every in-process decision
(`_memory`). Its Redis stores are not used: they keep one bucket object per key behind a
`Limiter` with a leak thread, and neither they nor limits' return the remaining count
with the decision, which the headers need on every response. So `_redis` runs three
short Lua scripts making the same decisions with the same integer arithmetic, one round
trip each, and a test runs both on the same arrival sequences. A limit needs an atomic
read-decide-write that returns the remaining budget in one round trip, which takes a
script: `_redis` runs it through `ambi.stores.RedisStore.eval` (EVALSHA, reloaded after a
Redis restart), the store layer the cache and sessions use, so `storage=store` shares
the app's connection pool and a URL gets a store of its own.
"""

from ._config import RateLimitConfig

__all__ = ["RateLimitConfig"]
