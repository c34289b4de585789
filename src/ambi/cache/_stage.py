"""The route stage: answer from the cache before validation and the handler run."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from ..exceptions import ConfigurationError, StoreError
from ..execution import Invoker
from ..http import Headers, Request, Response
from ..routing import parse_template
from ..stores import Store, TagStamp
from ._entry import (
    CACHEABLE_STATUS,
    Entry,
    cache_control,
    etag_for,
    etag_matches,
    normalise_query,
    not_modified,
    response_of,
)
from ._flight import Flights
from ._registry import AppCache, app_cache, key_name, store_failed, tag_name
from ._spec import CREDENTIAL_HEADERS, CacheSpec

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..app import App

Next = Callable[[Request], Awaitable[Response]]
Stage = Callable[[Request, Next], Awaitable[Response]]

_send_asgi = Response.send_asgi
_send_rsgi = Response.send_rsgi


def route_handler(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """What a route runs for `endpoint`: the function under `@cache` (whose own wrapper
    caches return values for direct calls), else the endpoint itself."""
    spec: CacheSpec | None = getattr(endpoint, "__ambi_cache__", None)
    return endpoint if spec is None else spec.fn


def cache_stage(compiled: CompiledRoute, app: App) -> Stage | None:
    """The cache stage of a route (the pipeline's factory at `StageOrder.CACHE`), or None
    when its endpoint has no `@cache`."""
    route = compiled.definition
    spec: CacheSpec | None = getattr(route.endpoint, "__ambi_cache__", None)
    if spec is None:
        return None
    where = f"{'/'.join(sorted(route.methods))} {route.path}"
    if not route.methods & {"GET", "HEAD"}:
        raise ConfigurationError(f"{where}: @cache answers GET and HEAD requests only")
    if route.options.get("run") == "process":
        raise ConfigurationError(
            f"{where}: @cache and run='process' do not combine (the process pool finds a "
            "handler by its name, which names the cache's wrapper)"
        )
    missing = spec.fields - set(parse_template(route.path).param_names)
    if missing:
        raise ConfigurationError(
            f"{where}: @cache tags name {', '.join(sorted(missing))}, which the path does not have"
        )
    key = None if spec.key is None else Invoker(spec.key, app.engine, "inline")
    return RouteCache(spec, app_cache(app), key)


def _storable(response: Response) -> bool:
    cls = type(response)
    return (
        response.status_code in CACHEABLE_STATUS
        and cls.send_asgi is _send_asgi  # the body is in memory (not streamed, not a file)
        and cls.send_rsgi is _send_rsgi
        and not response.deferred
    )


class RouteCache:
    """The stage of one `@cache` route."""

    __slots__ = ("config", "flights", "key", "spec", "store", "vary")

    def __init__(self, spec: CacheSpec, config: AppCache, key: Invoker | None) -> None:
        self.spec = spec
        self.config = config
        self.key = key
        self.store: Store | None = None  # resolved on the first request (enable_cache order)
        self.flights: Flights[Entry] = Flights()
        names = [*spec.vary, *CREDENTIAL_HEADERS]
        self.vary = ", ".join(n.title() for n in names)

    async def __call__(self, request: Request, call_next: Next) -> Response:
        if request.method not in ("GET", "HEAD"):
            return await call_next(request)
        headers = request.headers
        spec = self.spec
        if not spec.private and ("authorization" in headers or "cookie" in headers):
            return await call_next(request)  # never shared between users: not cached
        key, name = await self._key(request, headers)
        store = self.store or self._resolve()
        try:
            raw = await store.get(key)
        except StoreError as exc:
            store_failed(store, "lookup", exc)
            raw = None
        if raw is not None:
            return self._answer(Entry.decode(raw), headers)
        return await self._fill(request, call_next, key, name, store)

    def _resolve(self) -> Store:
        self.store = self.config.store_for(self.spec.store)
        return self.store

    async def _key(self, request: Request, headers: Headers) -> tuple[str, str]:
        """The store key and the entry's name (for `invalidate(key=)`). Parts whose text
        could run into the next one are length-prefixed or JSON, so no two requests that
        differ share a key."""
        spec = self.spec
        if self.key is not None:
            name = await self.key(request)
            if not isinstance(name, str):
                raise TypeError(f"@cache key function returned {type(name).__name__}, not str")
            key = f"http:={name}"
        else:
            path = request.path
            query = normalise_query(request.query_string)
            name = f"{path}?{query}" if query else path
            key = f"http:{len(path)}:{name}"
        if spec.vary:
            key += "#" + orjson.dumps([headers.get(h) for h in spec.vary]).decode()
        if spec.private:
            credential = f"{headers.get('authorization', '')}\n{headers.get('cookie', '')}"
            key += "@" + hashlib.sha256(credential.encode()).hexdigest()
        return key, name

    def _control(self, entry: Entry) -> str | None:
        if any(k == "cache-control" for k, _ in entry.headers):
            return None  # the handler said it
        return cache_control(entry.expires, self.spec.max_age, self.spec.private)

    def _answer(self, entry: Entry, headers: Headers) -> Response:
        control = self._control(entry)
        match = headers.get("if-none-match")
        if match is not None and etag_matches(match, entry.etag):
            return not_modified(entry, control)
        return response_of(entry, control)

    async def _fill(
        self, request: Request, call_next: Next, key: str, name: str, store: Store
    ) -> Response:
        leader, future = self.flights.join(key)
        if not leader and future is not None:
            shared = await asyncio.shield(future)
            if shared is not None:
                return self._answer(shared, request.headers)
            return await call_next(request)  # the leader had nothing to share
        entry: Entry | None = None
        try:
            tags = [tag_name(t.render(request.path_params)) for t in self.spec.tags]
            tags.append(key_name(name))
            stamp = await self._stamp(store, tags)
            response = await call_next(request)
            entry = self._entry(request, response)
            if entry is None:
                return response
            await self._store(store, key, entry, tags, stamp)
            answer = self._answer(entry, request.headers)
            if answer.status_code == 304:
                return answer
            return self._decorate(response, entry)
        finally:
            self.flights.done(key, future, entry)

    async def _stamp(self, store: Store, tags: list[str]) -> TagStamp | None:
        try:
            return await store.tag_stamp(tags)
        except StoreError as exc:
            store_failed(store, "tag lookup", exc)
            return None

    async def _store(
        self, store: Store, key: str, entry: Entry, tags: list[str], stamp: TagStamp | None
    ) -> None:
        if stamp is None:
            return  # the store failed just before: do not write what may be stale
        try:
            await store.set(key, entry.encode(), self.spec.ttl, tags=tags, stamp=stamp)
        except StoreError as exc:
            store_failed(store, "store", exc)

    def _entry(self, request: Request, response: Response) -> Entry | None:
        """The entry for `response`, or None when it must not be shared."""
        if not _storable(response):
            return None
        headers = response.headers
        if "set-cookie" in headers or headers.get("vary", "").strip() == "*":
            return None
        control = headers.get("cache-control", "").lower()
        if "no-store" in control or ("private" in control and not self.spec.private):
            return None
        session = getattr(request, "_session", None)
        if session is not None and session.modified:
            return None  # the handler changed the session: run it for every request
        etag = headers.get("etag") or etag_for(response.body)
        items = [(k, v) for k, v in headers.items_list if k not in ("etag", "vary")]
        items.append(("etag", etag))
        vary = headers.get("vary")
        items.append(("vary", f"{vary}, {self.vary}" if vary else self.vary))
        expires = time.time() + self.spec.ttl
        return Entry(response.status_code, items, response.body, etag, expires)

    def _decorate(self, response: Response, entry: Entry) -> Response:
        """The leader's own response, with what a hit would carry."""
        headers = response.headers
        headers["etag"] = entry.etag
        headers["vary"] = next(v for k, v in entry.headers if k == "vary")
        control = self._control(entry)
        if control is not None:
            headers["cache-control"] = control
        return response
