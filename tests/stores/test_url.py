"""`store_from_url`: one URL picks the store; anything it does not know is refused."""

from __future__ import annotations

import pytest

from ambi import ConfigurationError
from ambi.stores import MemoryStore, RedisStore, resolve_store, store_from_url


def test_memory_url() -> None:
    store = store_from_url("memory://?max_entries=5&max_bytes=4096")
    assert isinstance(store, MemoryStore)
    assert (store.max_entries, store.max_bytes) == (5, 4096)
    assert isinstance(store_from_url("memory://"), MemoryStore)


def test_redis_url_options() -> None:
    store = store_from_url(
        "redis://127.0.0.1:6379/2?prefix=app:&timeout=0.25&max_connections=7"
        "&retry_interval=2&health_check_interval=5"
    )
    assert isinstance(store, RedisStore)
    assert (store.prefix, store.timeout, store.retry_interval) == ("app:", 0.25, 2.0)
    assert store.where == "redis://127.0.0.1:6379"
    assert "prefix" not in store.url
    assert "health_check_interval=5" in store.url


def test_resolve_store_takes_a_store_or_a_url() -> None:
    store = MemoryStore()
    assert resolve_store(store) is store
    assert isinstance(resolve_store("memory://"), MemoryStore)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memcached://localhost", "unknown store URL"),
        ("memory://?size=3", "only the options"),
        ("memory://somewhere", "only the options"),
        ("memory://?max_entries=lots", "not a valid max_entries"),
        ("memory://?max_entries=0", "positive integer"),
        ("redis://127.0.0.1:6379/0?timeout=soon", "not a valid timeout"),
        ("redis://127.0.0.1:6379/0?timeout=0", "timeout"),
        ("redis://127.0.0.1:6379/0?nonsense=1", "nonsense"),
    ],
)
def test_bad_urls_fail_at_configuration(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        store_from_url(url)


def test_a_url_is_a_string() -> None:
    with pytest.raises(ConfigurationError, match="string"):
        store_from_url(42)  # type: ignore[arg-type]
