"""Response caching: `@cache`, `invalidate`, ETag / 304, on the stores of `ambi.stores`.

    @app.get("/items")
    @cache(ttl=120, tags=["items"])
    async def list_items(request): ...

    @app.post("/items")
    async def create_item(item: NewItem):
        ...
        await invalidate(tags=["items"])      # from a def handler: invalidate(tags=[...])

How a cached route answers
--------------------------
- It runs as a stage of the route (`StageOrder.CACHE`: after rate limits, authentication
  and guards, before the body is read): a hit runs neither the validation, nor the
  dependencies, nor the handler (nor its thread-pool hop).
- Key: the path, the query string with its parameters ordered by name (so `?b=2&a=1` and
  `?a=1&b=2` share an entry; repeats of one name keep their order), and the values of the
  `vary=[...]` headers and of every header the handler or its dependencies declare as a
  parameter (`Header()`); or, with `key=`, the name `key(request)` gives, instead of path
  and query. GET and HEAD share entries. A dependency that reads `request.headers` itself
  is not seen: name those headers in `vary=`. A route that reads a body cannot be cached
  (the body is not in the key): `ConfigurationError` at startup.
- Who gets an entry: a request carrying `Authorization` or a `Cookie` is **never answered
  from the cache and never stored** (the default), so one user's response cannot reach
  another. With `private=True` such requests are cached too, keyed by a hash of those two
  headers: each credential has its own entries, sent with `Cache-Control: private`.
- What is stored: 200, 203 and 204 responses whose body is in memory (not streamed, not a
  file), without `Set-Cookie`, without a `Vary` naming a header the key does not hold
  (declare it in `vary=`), without `Cache-Control: no-store` (or `private`, unless the
  route is private), and not when the handler changed `request.session`.
- Sent with every cacheable response: a strong `ETag` (hash of the body, unless the handler
  set one), `Cache-Control: max-age=<seconds left>` (`max_age=` to fix it; a handler's own
  `Cache-Control` is kept), `Vary` naming the vary headers plus `Authorization, Cookie`.
  A matching `If-None-Match` gets `304 Not Modified` without a body.
- Stampede protection: concurrent misses on one key in one process run the handler once;
  the others get its response (per process: N workers may compute a cold key N times).
- Invalidation: `invalidate(tags=[...])` / `invalidate(key="/items?page=2")`, from sync or
  async code. A response computed while its tag is invalidated is not stored.
- Stores: the app's (`app.enable_cache(store="redis://...")`), else one in-memory store
  per app. With Redis, every process shares entries and invalidations. If the store
  fails (down, timed out), requests are served uncached and the failure is logged
  (`ambi.cache`, and `ambi.stores` when Redis goes down and comes back); a Redis store
  gives up on a command after its `timeout` (0.5 s by default) and then fails fast.

Not done, on purpose: the request's own `Cache-Control: no-cache` does not bypass the
cache (any client could then empty it of its use); responses are not compressed here.
"""

from ._decorator import cache
from ._registry import AppCache, app_cache, default_store, invalidate
from ._stage import RouteCache, Stage, cache_stage, route_handler

__all__ = [
    "AppCache",
    "RouteCache",
    "Stage",
    "app_cache",
    "cache",
    "cache_stage",
    "default_store",
    "invalidate",
    "route_handler",
]
