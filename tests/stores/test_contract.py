"""The store interface, on the in-memory store and on the real Redis alike."""

from __future__ import annotations

import asyncio
import math

import pytest

from ambi.stores import Store


async def test_get_set_delete(store: Store) -> None:
    assert await store.get("a") is None
    assert await store.set("a", b"1") is True
    assert await store.get("a") == b"1"
    await store.set("a", b"2")
    assert await store.get("a") == b"2"
    assert await store.delete("a", "missing") == 1
    assert await store.get("a") is None
    assert await store.delete() == 0


async def test_values_are_bytes(store: Store) -> None:
    await store.set("bin", bytes(range(256)))
    assert await store.get("bin") == bytes(range(256))


async def test_ttl_and_expiry(store: Store) -> None:
    await store.set("short", b"x", ttl=0.05)
    await store.set("forever", b"x")
    left = await store.ttl("short")
    assert left is not None
    assert 0 < left <= 0.05
    assert await store.ttl("forever") == math.inf
    assert await store.ttl("missing") is None
    await asyncio.sleep(0.1)
    assert await store.get("short") is None
    assert await store.ttl("short") is None


async def test_expire(store: Store) -> None:
    assert await store.expire("missing", 10) is False
    await store.set("k", b"v")
    assert await store.expire("k", 0.05) is True
    await asyncio.sleep(0.1)
    assert await store.get("k") is None


async def test_add_only_when_absent(store: Store) -> None:
    assert await store.add("lock", b"me", ttl=5) is True
    assert await store.add("lock", b"you", ttl=5) is False
    assert await store.get("lock") == b"me"


async def test_incr_is_a_counter_whose_window_starts_at_creation(store: Store) -> None:
    assert await store.incr("hits", ttl=0.2) == 1
    assert await store.incr("hits", 4, ttl=10) == 5  # the expiry set at creation stays
    left = await store.ttl("hits")
    assert left is not None
    assert left <= 0.2
    assert await store.get("hits") == b"5"
    await asyncio.sleep(0.3)
    assert await store.incr("hits", ttl=10) == 1  # a new window
    assert await store.incr("plain", -2) == -2
    assert await store.ttl("plain") == math.inf


async def test_incr_is_atomic_under_concurrency(store: Store) -> None:
    await asyncio.gather(*(store.incr("n", ttl=10) for _ in range(200)))
    assert await store.get("n") == b"200"


async def test_invalidate_tags_deletes_what_was_set_under_them(store: Store) -> None:
    await store.set("a", b"1", 10, tags=["t1"])
    await store.set("b", b"2", 10, tags=["t1", "t2"])
    await store.set("c", b"3", 10, tags=["t2"])
    await store.set("d", b"4", 10)
    assert await store.invalidate_tags(["t1"]) == 2
    assert [await store.get(k) for k in "abcd"] == [None, None, b"3", b"4"]
    assert await store.invalidate_tags(["t2", "t1"]) == 1
    assert await store.get("c") is None
    assert await store.invalidate_tags([]) == 0


async def test_a_stale_stamp_is_refused(store: Store) -> None:
    before = await store.tag_stamp(["items"])
    assert await store.set("fresh", b"1", 10, tags=["items"], stamp=before) is True
    computing = await store.tag_stamp(["items"])
    await store.invalidate_tags(["items"])  # a write happened while computing
    assert await store.set("stale", b"old", 10, tags=["items"], stamp=computing) is False
    assert await store.get("stale") is None
    after = await store.tag_stamp(["items"])
    assert after != computing
    assert await store.set("stale", b"new", 10, tags=["items"], stamp=after) is True


async def test_untagged_stamp_checks_nothing_but_clear(store: Store) -> None:
    stamp = await store.tag_stamp([])
    assert await store.set("k", b"v", 10, stamp=stamp) is True


async def test_clear_empties_the_store(store: Store) -> None:
    await store.set("a", b"1", tags=["t"])
    await store.incr("n")
    await store.clear()
    assert await store.get("a") is None
    assert await store.get("n") is None


@pytest.mark.parametrize("ttl", [0, -1, True, float("nan")])
async def test_bad_ttls_are_refused(store: Store, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await store.set("k", b"v", ttl)
