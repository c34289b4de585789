"""`store_from_url`: one URL picks the store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..exceptions import ConfigurationError
from ._base import Store
from ._memory import MemoryStore

_Parse = Callable[[str], Any]
_MEMORY_OPTIONS: Mapping[str, _Parse] = {"max_entries": int, "max_bytes": int}
_REDIS_OPTIONS: Mapping[str, _Parse] = {
    "prefix": str,
    "timeout": float,
    "max_connections": int,
    "retry_interval": float,
}


def _take(options: dict[str, str], known: Mapping[str, _Parse], url: str) -> dict[str, Any]:
    taken: dict[str, Any] = {}
    for name, kind in known.items():
        if name in options:
            raw = options.pop(name)
            try:
                taken[name] = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{url}: {name}={raw!r} is not a valid {name}") from None
    return taken


def store_from_url(url: str) -> Store:
    """The store a URL names.

    - `memory://` (options `max_entries`, `max_bytes`): a `MemoryStore` in this process.
    - `redis://host:6379/0`, `rediss://...`, `unix:///path.sock` (options `prefix`,
      `timeout`, `max_connections`, `retry_interval`, and redis-py's own URL options): a
      `RedisStore` (needs the `redis` extra: `pip install 'ambi[redis]'`).

    A scheme or option it does not know raises `ConfigurationError`.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"a store URL is a string, not {type(url).__name__}")
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.scheme == "memory":
        taken = _take(options, _MEMORY_OPTIONS, url)
        if options or parts.netloc or parts.path:
            raise ConfigurationError(
                f"{url}: memory:// takes only the options {', '.join(_MEMORY_OPTIONS)}"
            )
        try:
            return MemoryStore(**taken)
        except ValueError as exc:
            raise ConfigurationError(f"{url}: {exc}") from None
    if parts.scheme in ("redis", "rediss", "unix"):
        try:
            from ._redis import RedisStore
        except ImportError:  # pragma: no cover - the dev environment has the extra
            raise ConfigurationError(
                f"{parts.scheme}:// needs redis-py: pip install 'ambi[redis]'"
            ) from None
        taken = _take(options, _REDIS_OPTIONS, url)
        rest = urlunsplit(parts._replace(query=urlencode(options)))
        try:
            return RedisStore(rest, **taken)
        except ValueError as exc:
            raise ConfigurationError(f"{url}: {exc}") from None
    raise ConfigurationError(f"unknown store URL {url!r}: use memory:// or redis://host:port/db")


def resolve_store(store: str | Store) -> Store:
    """A `Store` given as itself or as a URL."""
    if isinstance(store, Store):
        return store
    return store_from_url(store)
