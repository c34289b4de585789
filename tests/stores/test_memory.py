"""`MemoryStore`: bounded by entries and bytes, least recently used out first, thread-safe."""

from __future__ import annotations

import concurrent.futures

import pytest

from ambi.stores import MemoryStore

from .conftest import Clock


async def test_evicts_the_least_recently_used_entry() -> None:
    store = MemoryStore(max_entries=3)
    for key in "abc":
        await store.set(key, b"x")
    await store.get("a")  # now b is the least recently used
    await store.set("d", b"x")
    assert [await store.get(k) for k in "abcd"] == [b"x", None, b"x", b"x"]
    assert store.entries == 3


async def test_bounded_in_bytes() -> None:
    store = MemoryStore(max_bytes=1000)
    for i in range(10):
        await store.set(f"k{i}", b"v" * 200)
    assert store.size_bytes <= 1000
    assert await store.get("k9") == b"v" * 200
    assert await store.get("k0") is None
    await store.set("huge", b"v" * 2000)  # larger than the whole store: not kept
    assert await store.get("huge") is None
    assert await store.get("k9") == b"v" * 200


async def test_eviction_forgets_tags() -> None:
    store = MemoryStore(max_entries=1)
    await store.set("a", b"1", tags=["t"])
    await store.set("b", b"2", tags=["t"])  # evicts a
    assert await store.invalidate_tags(["t"]) == 1
    assert not store._tags


async def test_expiry_follows_the_clock(clock: Clock) -> None:
    store = MemoryStore()
    await store.set("k", b"v", ttl=10, tags=["t"])
    clock.now += 9.9
    assert await store.get("k") == b"v"
    assert await store.ttl("k") == pytest.approx(0.1)
    clock.now += 0.2
    assert await store.get("k") is None
    assert store.size_bytes == 0
    assert not store._tags


async def test_overwriting_moves_tags() -> None:
    store = MemoryStore()
    await store.set("k", b"1", tags=["old"])
    await store.set("k", b"2", tags=["new"])
    assert await store.invalidate_tags(["old"]) == 0
    assert await store.get("k") == b"2"
    assert await store.invalidate_tags(["new"]) == 1


async def test_clear_makes_earlier_stamps_stale() -> None:
    store = MemoryStore()
    stamp = await store.tag_stamp(["never-invalidated"])
    await store.clear()
    assert await store.set("k", b"v", tags=["never-invalidated"], stamp=stamp) is False


async def test_incr_refuses_a_value_that_is_not_a_number() -> None:
    store = MemoryStore()
    await store.set("k", b"abc")
    with pytest.raises(ValueError, match="not an integer"):
        await store.incr("k")


def test_sync_methods_from_many_threads() -> None:
    store = MemoryStore(max_entries=50)

    def work(i: int) -> None:
        for j in range(200):
            store.set_now(f"{i}-{j % 60}", b"x" * j, tags=[f"t{i}"])
            store.get_now(f"{i}-{j % 7}")
        store.invalidate_tags_now([f"t{i}"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert store.entries == 0
    assert store.size_bytes == 0
    assert not store._tags


@pytest.mark.parametrize("bad", [{"max_entries": 0}, {"max_bytes": -1}, {"max_entries": True}])
def test_limits_are_positive_integers(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        MemoryStore(**bad)


def test_values_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        MemoryStore().set_now("k", "text")  # type: ignore[arg-type]
