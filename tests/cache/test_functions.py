"""`@cache` on functions that are not routes: return values keyed by arguments."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import threading
import time
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from ambi import ConfigurationError, cache, invalidate
from ambi.stores import MemoryStore


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
