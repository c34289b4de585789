"""`@cache` on functions that are not routes: return values keyed by arguments."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from ambi import ConfigurationError, StoreError, cache, invalidate
from ambi.stores import MemoryStore, RedisStore, TagStamp


class User(BaseModel):
    id: int
    name: str


def test_a_sync_function_is_cached_by_its_arguments() -> None:
    calls: list[tuple[int, str]] = []

    @cache(ttl=60, store=MemoryStore())
    def lookup(user_id: int, fmt: str = "short") -> dict[str, Any]:
        calls.append((user_id, fmt))
        return {"id": user_id, "fmt": fmt}

    assert lookup(1) == {"id": 1, "fmt": "short"}
    assert lookup(1, "short") == {"id": 1, "fmt": "short"}  # defaults are part of the key
    assert lookup(user_id=1) == {"id": 1, "fmt": "short"}
    assert lookup(1, fmt="long") == {"id": 1, "fmt": "long"}
    assert calls == [(1, "short"), (1, "long")]
    first = lookup(2)
    first["id"] = 99  # callers get copies, not the entry
    assert lookup(2) == {"id": 2, "fmt": "short"}


async def test_an_async_function_is_cached_and_invalidated_by_tag() -> None:
    calls: list[int] = []
    tag = f"users-{uuid.uuid4().hex}"

    @cache(ttl=60, tags=[tag, tag + ":{user_id}"])
    async def get_user(user_id: int) -> User:
        calls.append(user_id)
        return User(id=user_id, name=f"user {user_id}")

    assert await get_user(1) == User(id=1, name="user 1")
    cached = await get_user(1)
    assert isinstance(cached, User)  # rebuilt through the return annotation
    await get_user(2)
    assert calls == [1, 2]
    await invalidate(tags=[tag + ":1"])
    await get_user(1)
    await get_user(2)
    assert calls == [1, 2, 1]
    await invalidate(tags=[tag])
    await get_user(2)
    assert calls == [1, 2, 1, 2]


def test_a_key_function_names_entries() -> None:
    calls: list[int] = []
    name = f"report-{uuid.uuid4().hex}"

    @cache(ttl=60, key=lambda year, **_: f"{name}:{year}")
    def report(year: int, verbose: bool = False) -> list[int]:
        calls.append(year)
        return [year]

    assert report(2024) == [2024]
    assert report(2024, verbose=True) == [2024]  # the key ignores `verbose`
    invalidate(key=f"{name}:2024")
    report(2024)
    assert calls == [2024, 2024]


def test_ttl_expires_entries() -> None:
    calls: list[int] = []

    @cache(ttl=0.05, store=MemoryStore())
    def now() -> int:
        calls.append(1)
        return len(calls)

    assert now() == 1
    assert now() == 1
    time.sleep(0.1)
    assert now() == 2


def test_concurrent_sync_misses_run_once() -> None:
    calls: list[int] = []

    @cache(ttl=60, store=MemoryStore())
    def slow(x: int) -> int:
        calls.append(x)
        time.sleep(0.2)
        return x * 2

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(slow, [3] * 20))
    assert results == [6] * 20
    assert calls == [3]


async def test_concurrent_async_misses_run_once() -> None:
    calls: list[int] = []

    @cache(ttl=60, store=MemoryStore())
    async def slow(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.1)
        return x * 2

    assert await asyncio.gather(*(slow(5) for _ in range(50))) == [10] * 50
    assert calls == [5]


def test_arguments_without_a_json_form_need_a_key() -> None:
    @cache(ttl=60, store=MemoryStore())
    def area(shape: object) -> float:
        return 1.0

    with pytest.raises(TypeError, match="pass key="):
        area(object())


def test_models_sets_and_dataclasses_are_keys() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    calls: list[Any] = []

    @cache(ttl=60, store=MemoryStore())
    def describe(user: User, tags: frozenset[str], point: Point) -> str:
        calls.append(user)
        return f"{user.name} {sorted(tags)} {point.x}"

    ada = User(id=1, name="ada")
    assert describe(ada, frozenset({"b", "a"}), Point(1)) == "ada ['a', 'b'] 1"
    assert describe(User(id=1, name="ada"), frozenset({"a", "b"}), Point(1)) == "ada ['a', 'b'] 1"
    assert len(calls) == 1


def test_an_unannotated_result_must_survive_json() -> None:
    @cache(ttl=60, store=MemoryStore())
    def pair():  # type: ignore[no-untyped-def]
        return (1, 2)

    with pytest.raises(TypeError, match="annotate the return type"):
        pair()

    @cache(ttl=60, store=MemoryStore())
    def annotated() -> tuple[int, int]:
        return (1, 2)

    assert annotated() == (1, 2)
    assert annotated() == (1, 2)


def test_a_tag_naming_no_argument_is_reported() -> None:
    @cache(ttl=60, tags=["x:{missing}"], store=MemoryStore())
    def f(a: int) -> int:
        return a

    with pytest.raises(TypeError, match="missing"):
        f(1)


def test_threads_without_an_app_use_their_own_loops() -> None:
    store = MemoryStore()
    calls: list[int] = []

    @cache(ttl=60, store=store)
    def f(a: int) -> int:
        calls.append(a)
        return a

    threads = [threading.Thread(target=f, args=(1,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ttl": 0}, "ttl"),
        ({"tags": "items"}, "list of tags"),
        ({"tags": [""]}, "non-empty"),
        ({"tags": ["item:{0}"]}, "plain names"),
        ({"tags": ["item:{"]}, "item"),
        ({"vary": "accept"}, "header names"),
        ({"vary": ["bad header"]}, "not a header name"),
        ({"vary": ["Authorization"]}, "private=True"),
        ({"max_age": -1}, "max_age"),
        ({"private": "yes"}, "private"),
        ({"key": "name"}, "plain function"),
        ({"store": "nowhere://"}, "unknown store URL"),
    ],
)
def test_bad_options_fail_at_decoration(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        cache(**options)(lambda: None)


def test_async_key_functions_are_refused() -> None:
    async def key(request: Any) -> str:
        return "k"

    with pytest.raises(ConfigurationError, match="plain function"):
        cache(key=key)(lambda: None)  # type: ignore[arg-type]


def test_cache_twice_and_generators_are_refused() -> None:
    @cache
    def once() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="twice"):
        cache(once)

    def gen() -> Any:
        yield 1

    with pytest.raises(ConfigurationError, match="generator"):
        cache(gen)


class _Down(MemoryStore):
    """Fails every command, as an unreachable Redis does."""

    async def get(self, key: str) -> bytes | None:
        raise StoreError("down")

    def get_now(self, key: str) -> bytes | None:
        raise StoreError("down")

    def tag_stamp_now(self, tags: Sequence[str]) -> TagStamp:
        raise StoreError("down")

    async def tag_stamp(self, tags: Sequence[str]) -> TagStamp:
        raise StoreError("down")


async def test_a_failing_store_runs_functions_uncached(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    store = _Down()

    @cache(ttl=60, store=store)
    def sync_f(a: int) -> int:
        calls.append(a)
        return a

    @cache(ttl=60, store=store)
    async def async_f(a: int) -> int:
        calls.append(a)
        return a

    caplog.set_level(logging.WARNING, "ambi.cache")
    assert [sync_f(1), sync_f(1), await async_f(2), await async_f(2)] == [1, 1, 2, 2]
    assert calls == [1, 1, 2, 2]
    assert "serving uncached" in caplog.text


def test_sync_functions_on_redis_through_the_bridge(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"ambi-test:{uuid.uuid4().hex}:", timeout=5)
    calls: list[int] = []

    @cache(ttl=60, tags=["squares"], store=store)
    def square(a: int) -> int:
        calls.append(a)
        return a * a

    assert [square(3), square(3), square(4)] == [9, 9, 16]
    assert calls == [3, 4]
    assert invalidate(tags=["squares"], store=store) == 2
    assert square(3) == 9
    assert calls == [3, 4, 3]

    async def clean() -> None:
        await store.clear()
        await store.close()

    asyncio.run(clean())


async def test_async_functions_on_redis(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"ambi-test:{uuid.uuid4().hex}:", timeout=5)
    calls: list[int] = []

    @cache(ttl=60, store=store)
    async def double(a: int) -> int:
        calls.append(a)
        return a * 2

    try:
        assert [await double(3), await double(3)] == [6, 6]
        assert calls == [3]
    finally:
        await store.clear()
        await store.close()


def test_a_handler_function_called_directly_runs_uncached() -> None:
    calls: list[int] = []

    @cache(ttl=60)
    async def handler(request):  # type: ignore[no-untyped-def]
        calls.append(1)
        return len(calls)

    assert asyncio.run(handler(None)) == 1
    assert asyncio.run(handler(None)) == 2


def test_a_return_annotation_that_cannot_be_resolved() -> None:
    @cache(ttl=60, store=MemoryStore())
    def f() -> Missing:  # type: ignore[name-defined]  # noqa: F821
        return 1

    with pytest.raises(ConfigurationError, match="return type"):
        f()


def test_a_key_function_must_give_a_string() -> None:
    @cache(ttl=60, key=lambda: 3, store=MemoryStore())  # type: ignore[arg-type, return-value]
    def f() -> int:
        return 1

    with pytest.raises(TypeError, match="not str"):
        f()


def test_long_arguments_are_keyed_by_their_hash() -> None:
    store = MemoryStore()
    calls: list[int] = []

    @cache(ttl=60, store=store)
    def total(values: list[int]) -> int:
        calls.append(1)
        return sum(values)

    big = list(range(500))
    assert total(big) == total(list(big))
    assert calls == [1]
    assert all(len(key) < 200 for key in store._data)
