"""The route stage: answer from the cache before validation and the handler run."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from .._signature import HandlerPlan
from .._signature._sources import model_keys
from ..exceptions import ConfigurationError, StoreError
from ..execution import Invoker
from ..http import Request, Response
from ..routing import parse_template
from ..stores import MemoryStore, Store, TagStamp
from ._entry import (
    CACHEABLE_STATUS,
    Entry,
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

_GET_HEAD = frozenset({"GET", "HEAD"})
#: Decoded entries kept per route (small bodies only), see `RouteCache._decoded`.
MEMO_ENTRIES = 64
MEMO_BODY = 64 * 1024


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
    if route.options.get("stream_body") or compiled.plan.body_params or compiled.plan.reads_form:
        raise ConfigurationError(
            f"{where}: @cache on a route that reads a request body: the body is not part of "
            "the cache key"
        )
    vary = tuple(dict.fromkeys((*spec.vary, *_headers_read(compiled.plan, where))))
    cached = RouteCache(spec, app_cache(app), key, vary)
    app_cache(app).routes[compiled.label] = cached
    return cached


def _headers_read(plan: HandlerPlan, where: str) -> list[str]:
    """The headers the handler and its dependencies declare as parameters: part of the key
    (credentials apart: those never reach a shared entry, or are keyed when private)."""
    names: list[str] = []
    for param in plan.params:
        if param.source != "header":
            continue
        if not param.is_model:
            names.append(param.key.lower())
            continue
        if param.annotation.model_config.get("extra") == "forbid":
            raise ConfigurationError(
                f"{where}: @cache cannot key a header model that forbids extra headers (it "
                "reads every header)"
            )
        names += [wire.lower() for _, wire, _ in model_keys(param.annotation, param.marker)]
    return [name for name in names if name not in CREDENTIAL_HEADERS]


def _storable(response: Response) -> bool:
    return (
        response.status_code in CACHEABLE_STATUS
        and response.in_memory  # not streamed, not a file
        and not response.deferred
    )


class RouteCache:
    """The stage of one `@cache` route."""

    __slots__ = (
        "config",
        "flights",
        "hits",
        "key",
        "memo",
        "memory",
        "misses",
        "spec",
        "store",
        "vary",
        "vary_names",
        "wanted",
    )

    def __init__(
        self, spec: CacheSpec, config: AppCache, key: Invoker | None, vary: tuple[str, ...]
    ) -> None:
        self.spec = spec
        self.config = config
        self.key = key
        self.store: Store | None = None  # resolved on the first request (enable_cache order)
        self.memory: MemoryStore | None = None
        self.memo: dict[str, tuple[bytes, Entry]] = {}
        self.flights: Flights[Entry] = Flights()
        #: the request headers in the key: `vary=` and the header parameters
        self.vary_names = vary
        self.vary = ", ".join(n.title() for n in (*vary, *CREDENTIAL_HEADERS))
        self.wanted = frozenset({*CREDENTIAL_HEADERS, "if-none-match", *vary})
        #: answered from the cache (or from a concurrent request's fill); handler runs
        self.hits = 0
        self.misses = 0

    async def __call__(self, request: Request, call_next: Next) -> Response:
        if request.method not in _GET_HEAD:
            return await call_next(request)
        # PERF: one pass over the raw headers for the few this stage reads, instead of
        # building the request's header index (bench_cache.py).
        wanted = self.wanted
        found: dict[str, str] = {}
        for header, value in request.raw_headers:
            if header in wanted:
                found[header] = f"{found[header]}\n{value}" if header in found else value
        spec = self.spec
        if not spec.private and ("authorization" in found or "cookie" in found):
            return await call_next(request)  # never shared between users: not cached
        own_key = self.key
        if own_key is None:
            key, name = self._path_key(request)
        else:
            key, name = await self._own_key(own_key, request)
        if self.vary_names or spec.private:
            key += self._key_suffix(found)
        store = self.store if self.store is not None else self._resolve()
        memory = self.memory
        if memory is not None:
            raw = memory.get_now(key)  # PERF: no coroutine for the in-memory store
        else:
            try:
                raw = await store.get(key)
            except StoreError as exc:
                store_failed(store, "lookup", exc)
                raw = None
        if raw is not None:
            self.hits += 1
            return self._answer(self._decoded(key, raw), found.get("if-none-match"))
        return await self._fill(request, call_next, key, name, found)

    def _resolve(self) -> Store:
        self.store = store = self.config.store_for(self.spec.store)
        if type(store) is MemoryStore:
            self.memory = store
        return store

    def _decoded(self, key: str, raw: bytes) -> Entry:
        """The entry in `raw`. PERF: a MemoryStore hands back the bytes object it holds, so
        an entry is decoded once and found again by that object's identity."""
        if self.memory is None or len(raw) > MEMO_BODY:
            return Entry.decode(raw)
        memo = self.memo
        seen = memo.get(key)
        if seen is not None and seen[0] is raw:
            return seen[1]
        entry = Entry.decode(raw)
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        memo[key] = (raw, entry)
        return entry

    @staticmethod
    def _path_key(request: Request) -> tuple[str, str]:
        """The store key and the entry's name (for `invalidate(key=)`): path and ordered
        query. The path is length-prefixed: its text cannot run into what follows."""
        path = request.path
        query = normalise_query(request.query_string)
        name = f"{path}?{query}" if query else path
        return f"http:{len(path)}:{name}", name

    @staticmethod
    async def _own_key(own_key: Invoker, request: Request) -> tuple[str, str]:
        name = await own_key(request)
        if not isinstance(name, str):
            raise TypeError(f"@cache key function returned {type(name).__name__}, not str")
        return f"http:={name}", name

    def _key_suffix(self, found: dict[str, str]) -> str:
        """The vary headers' values (as JSON: no value can run into the next) and, for
        private routes, a hash of the credentials."""
        spec = self.spec
        suffix = ""
        if self.vary_names:
            suffix = "#" + orjson.dumps([found.get(h) for h in self.vary_names]).decode()
        if spec.private:
            credential = f"{found.get('authorization', '')}\r{found.get('cookie', '')}"
            suffix += "@" + hashlib.sha256(credential.encode()).hexdigest()
        return suffix

    def _answer(self, entry: Entry, if_none_match: str | None) -> Response:
        control = entry.control(self.spec.max_age, self.spec.private)
        if if_none_match is not None and etag_matches(if_none_match, entry.etag):
            return not_modified(entry, control)
        return response_of(entry, control)

    async def _fill(
        self, request: Request, call_next: Next, key: str, name: str, found: dict[str, str]
    ) -> Response:
        leader, future = self.flights.join(key)
        if not leader and future is not None:
            shared = await asyncio.shield(future)
            if shared is not None:
                self.hits += 1
                return self._answer(shared, found.get("if-none-match"))
            self.misses += 1
            return await call_next(request)  # the leader had nothing to share
        self.misses += 1
        store = self.store if self.store is not None else self._resolve()
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
            answer = self._answer(entry, found.get("if-none-match"))
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
        if "set-cookie" in headers:
            return None
        vary = headers.get("vary")
        if vary is not None and not self._keyed_by(vary):
            return None  # it varies on a header the key does not hold (or on anything: *)
        control = headers.get("cache-control", "").lower()
        if "no-store" in control or ("private" in control and not self.spec.private):
            return None
        session = getattr(request, "_session", None)
        if session is not None and session.modified:
            return None  # the handler changed the session: run it for every request
        etag = headers.get("etag") or etag_for(response.body)
        items = [(k, v) for k, v in headers.items_list if k not in ("etag", "vary")]
        items.append(("etag", etag))
        items.append(("vary", self.vary))
        expires = time.time() + self.spec.ttl
        return Entry(response.status_code, items, response.body, etag, expires)

    def _keyed_by(self, vary: str) -> bool:
        """Whether the key holds every header a response's `Vary` names."""
        names = {name.strip().lower() for name in vary.split(",")} - {""}
        return names <= self.wanted and "if-none-match" not in names

    def _decorate(self, response: Response, entry: Entry) -> Response:
        """The leader's own response, with what a hit would carry."""
        headers = response.headers
        headers["etag"] = entry.etag
        headers["vary"] = self.vary
        control = entry.control(self.spec.max_age, self.spec.private)
        if control is not None:
            headers["cache-control"] = control
        return response
