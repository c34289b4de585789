"""Which store each cache uses, `invalidate()`, and the log of stores failing."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..bridge import smartasync
from ..exceptions import ConfigurationError, StoreError
from ..execution import engine_for_loop
from ..stores import MemoryStore, Store, resolve_store

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.cache")

#: Every store a cache has used in this process: `invalidate()` reaches all of them.
_stores: weakref.WeakSet[Store] = weakref.WeakSet()
_default: list[MemoryStore] = []
_last_warning: weakref.WeakKeyDictionary[Store, float] = weakref.WeakKeyDictionary()
WARN_EVERY = 10.0


def track(store: Store) -> Store:
    """Remember `store` for `invalidate()`; gives it back."""
    _stores.add(store)
    return store


def default_store() -> MemoryStore:
    """The store of `@cache` on plain functions without `store=`: one per process."""
    if not _default:
        _default.append(MemoryStore())
        track(_default[0])
    return _default[0]


class AppCache:
    """One app's cache: the store its `@cache` routes use (unless they name their own),
    and every store its routes touched, closed at the app's shutdown."""

    __slots__ = ("_store", "fixed", "routes", "used")

    def __init__(self) -> None:
        self._store: Store | None = None
        self.fixed = False  # a route has served with the store: changing it now is a mistake
        self.used: list[Store] = []
        #: the `@cache` routes by label ("GET /items/{id}"), for their hit counts
        self.routes: dict[str, Any] = {}

    def stats(self) -> dict[str, Any]:
        """Hits and misses of the app's `@cache` routes, for `app.metrics()`."""
        by_route = {label: {"hits": r.hits, "misses": r.misses} for label, r in self.routes.items()}
        return {
            "hits": sum(r["hits"] for r in by_route.values()),
            "misses": sum(r["misses"] for r in by_route.values()),
            "by_route": by_route,
        }

    def set_store(self, store: Store | str) -> None:
        if self.fixed:
            raise ConfigurationError(
                "enable_cache() after the app served cached routes: call it before serving"
            )
        resolved = self._store = track(resolve_store(store))  # invalidate() reaches it now
        if resolved not in self.used:
            self.used.append(resolved)

    def store_for(self, own: Store | None) -> Store:
        """The store of a route: its own, or the app's (an in-memory one by default)."""
        self.fixed = True
        store = own if own is not None else self._store
        if store is None:
            store = self._store = MemoryStore()
        if store not in self.used:
            self.used.append(track(store))
        return store

    async def close(self) -> None:
        for store in self.used:
            await store.close()


_apps: weakref.WeakKeyDictionary[App, AppCache] = weakref.WeakKeyDictionary()


def app_cache(app: App) -> AppCache:
    """`app`'s cache settings, made on first use (with a shutdown hook closing its stores)."""
    config = _apps.get(app)
    if config is None:
        config = _apps[app] = AppCache()
        app.add_event_handler("shutdown", config.close)
        from ..metrics._sources import add_metric_source

        add_metric_source(app, "cache", config.stats, replace=True)
    return config


def store_failed(store: Store, what: str, exc: StoreError) -> None:
    """Log a store failure the cache answers by serving uncached (at most every 10 s)."""
    now = time.monotonic()
    if now - _last_warning.get(store, -WARN_EVERY) >= WARN_EVERY:
        _last_warning[store] = now
        logger.warning("cache %s failed on %r, serving uncached: %s", what, store, exc)


@smartasync
async def invalidate(
    *, tags: Sequence[str] = (), key: str | None = None, store: Store | str | None = None
) -> int:
    """Delete the cached entries under any of `tags`, and those named `key`.

    `key` is what a `key=` function returned for the entry, or, for a route without one,
    its path with the query parameters sorted (`"/items?page=2&size=10"`). Reaches every
    store a cache in this process has used (or only `store`); with a Redis store, every
    process using it. Entries being computed while this runs are not stored.

    Callable from sync code as it is and from async code with `await` (`smartasync`).
    Returns how many entries were deleted; raises `StoreError` if a store failed.
    """
    if isinstance(tags, str):
        raise TypeError(f"invalidate(tags=...) takes a list of tags, not the string {tags!r}")
    names = [tag_name(t) for t in tags]
    if key is not None:
        names.append(key_name(key))
    if not names:
        raise TypeError("invalidate() needs tags=[...] or key=...")
    targets = [resolve_store(store)] if store is not None else list(_stores)
    removed = 0
    failures: list[StoreError] = []
    for target in targets:
        try:
            removed += await target.invalidate_tags(names)
        except StoreError as exc:
            logger.error("cache invalidation of %s failed on %r: %s", names, target, exc)
            failures.append(exc)
        finally:
            await release_outside_apps(target)
    if failures:
        raise failures[0]
    return removed


async def release_outside_apps(store: Store) -> None:
    """Close what `store` opened on the running loop unless the app serving on this loop
    uses it (that app closes it at shutdown). Nothing else would: a script's or a plain
    thread's loop, or another app's, is not told when it ends."""
    engine = engine_for_loop(asyncio.get_running_loop())
    if engine is not None:
        for app, config in list(_apps.items()):
            if app.engine is engine and store in config.used:
                return
    await store.close()


def tag_name(tag: str) -> str:
    """A user's tag, as the store knows it (apart from the names of keys)."""
    return f"tag:{tag}"


def key_name(key: str) -> str:
    """The tag every entry with this key name carries, for `invalidate(key=...)`."""
    return f"key:{key}"
