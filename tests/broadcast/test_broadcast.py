"""`ambi.broadcast`: channels in one process and across processes sharing the real Redis
(two `Broadcast` objects on one Redis stand for two hosts)."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator

import pytest

from ambi import ConfigurationError, StoreError
from ambi.broadcast import Broadcast, Message, Subscription

from ..stores._proxy import RedisProxy

WAIT = 5.0  # the longest a test waits for a message that must come


async def _next(messages: Subscription) -> Message:
    async with asyncio.timeout(WAIT):
        return await anext(messages)


async def _nothing(messages: Subscription, within: float = 0.2) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(within):
            await anext(messages)


def _prefix() -> str:
    return f"ambi-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Broadcast, Broadcast]]:
    """Two broadcasts that must see each other's messages: one in-process broadcast used
    twice, or two Redis broadcasts with one prefix (two hosts)."""
    if request.param == "memory":
        one = Broadcast()
        yield one, one
        await one.close()
        return
    url = f"{request.getfixturevalue('redis_url')}?prefix={_prefix()}"
    a, b = Broadcast(url), Broadcast(url)
    yield a, b
    await a.close()
    await b.close()


async def test_a_message_reaches_every_subscriber_of_its_channel_only(
    pair: tuple[Broadcast, Broadcast],
) -> None:
    a, b = pair
    async with (
        a.subscribe("room") as on_a,
        b.subscribe("room") as on_b,
        b.subscribe("other") as other,
    ):
        await a.publish("room", "one")
        await b.publish("room", b'{"n": 2}')
        assert (await _next(on_a)) == Message("room", b"one")
        assert (await _next(on_a)).json() == {"n": 2}
        assert (await _next(on_b)).text == "one"
        assert (await _next(on_b)).data == b'{"n": 2}'
        await _nothing(other)


async def test_order_is_kept_per_publisher(pair: tuple[Broadcast, Broadcast]) -> None:
    a, b = pair
    async with b.subscribe("seq") as messages:
        for i in range(200):
            await a.publish("seq", str(i))
        got = [int((await _next(messages)).text) for _ in range(200)]
    assert got == list(range(200))


async def test_leaving_stops_delivery_and_ends_iteration(
    pair: tuple[Broadcast, Broadcast],
) -> None:
    a, b = pair
    async with a.subscribe("c") as stays:
        async with b.subscribe("c") as leaves:
            await a.publish("c", "1")
            assert (await _next(leaves)).text == "1"
        await a.publish("c", "2")
        assert [(await _next(stays)).text for _ in range(2)] == ["1", "2"]
        with pytest.raises(StopAsyncIteration):
            await _next(leaves)  # left: the iteration is over


async def test_close_ends_the_iteration_of_its_subscribers(redis_url: str) -> None:
    for broadcast in (Broadcast(), Broadcast(f"{redis_url}?prefix={_prefix()}")):
        async with broadcast.subscribe("c") as messages:

            async def drain(subscription: Subscription = messages) -> list[Message]:
                return [m async for m in subscription]

            reader = asyncio.ensure_future(drain())
            await asyncio.sleep(0.05)
            await broadcast.close()
            async with asyncio.timeout(WAIT):
                assert await reader == []


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_slow_subscriber_loses_its_oldest_messages_only(
    kind: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    if kind == "memory":
        slow_side = publisher = Broadcast(max_queued=3)
    else:
        url = f"{request.getfixturevalue('redis_url')}?prefix={_prefix()}"
        slow_side, publisher = Broadcast(url, max_queued=3), Broadcast(url)
    caplog.set_level(logging.WARNING, "ambi.broadcast")
    try:
        async with slow_side.subscribe("burst") as slow, slow_side.subscribe("end") as end:
            for i in range(10):
                await publisher.publish("burst", str(i))
            await publisher.publish("end", "")
            await _next(end)  # published after the burst, on the same connection: all in
            assert [(await _next(slow)).text for _ in range(3)] == ["7", "8", "9"]
            assert slow.dropped == 7
        assert any("dropping its oldest" in r.getMessage() for r in caplog.records)
    finally:
        await slow_side.close()
        await publisher.close()


async def test_sync_code_publishes_without_await(pair: tuple[Broadcast, Broadcast]) -> None:
    a, b = pair
    async with b.subscribe("from-thread") as messages:
        errors: list[BaseException] = []

        def publish() -> None:
            try:
                a.publish("from-thread", "hello")  # a plain call from a thread
                if a is not b:
                    a.close()  # the connections this thread's loop made
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=publish)
        thread.start()
        await asyncio.to_thread(thread.join, WAIT)
        assert not errors
        assert (await _next(messages)).text == "hello"


async def test_prefixes_keep_two_apps_apart(redis_url: str) -> None:
    one, two = (
        Broadcast(f"{redis_url}?prefix={_prefix()}"),
        Broadcast(f"{redis_url}?prefix={_prefix()}"),
    )
    try:
        async with two.subscribe("room") as messages:
            await one.publish("room", "not for two")
            await _nothing(messages)
    finally:
        await one.close()
        await two.close()


async def test_subscriptions_outlive_a_lost_connection(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis going away and coming back: publishing fails meanwhile (StoreError), then the
    existing subscription receives again, with no new subscribe."""
    proxy = RedisProxy()
    await proxy.start()
    prefix = _prefix()
    via_proxy = Broadcast(f"{proxy.url}?prefix={prefix}&timeout=0.5")
    direct = Broadcast(f"{redis_url}?prefix={prefix}")
    caplog.set_level(logging.WARNING, "ambi.broadcast")
    try:
        async with via_proxy.subscribe("room") as messages:
            await direct.publish("room", "before")
            assert (await _next(messages)).text == "before"
            await proxy.stop()
            with pytest.raises(StoreError):
                await via_proxy.publish("room", "down")
            async with asyncio.timeout(WAIT):  # the listener notices (and says so)
                while not any("connection lost" in r.getMessage() for r in caplog.records):
                    await asyncio.sleep(0.02)
            await proxy.start()
            received: Message | None = None
            async with asyncio.timeout(WAIT):  # resubscribed within the backoff
                while received is None:
                    await direct.publish("room", "after")
                    try:
                        async with asyncio.timeout(0.2):
                            received = await anext(messages)
                    except TimeoutError:
                        continue
            assert received.text == "after"
            await via_proxy.publish("room", "again")  # publishing heals too
            assert (await _next(messages)).text in ("after", "again")
        assert any("reachable again" in r.getMessage() for r in caplog.records)
    finally:
        await via_proxy.close()
        await direct.close()
        await proxy.stop()


async def test_subscribing_with_redis_down_fails_within_the_timeout() -> None:
    proxy = RedisProxy()
    await proxy.start()
    await proxy.stop()  # a port nobody serves any more
    broadcast = Broadcast(f"{proxy.url}?timeout=0.3")
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(StoreError, match="no subscription"):
                async with broadcast.subscribe("room"):
                    pass  # pragma: no cover - not reached
    finally:
        await broadcast.close()


@pytest.mark.parametrize(
    "url",
    [
        "nats://127.0.0.1:4222",
        "memory://somewhere",
        "memory://?max=1",
        "redis://127.0.0.1:6379/0?timeout=soon",
        "redis://127.0.0.1:6379/0?timeout=0",
        "redis://127.0.0.1:6379/0?no_such_option=1",
    ],
)
def test_bad_urls_fail_at_construction(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Broadcast(url)


@pytest.mark.parametrize("max_queued", [0, -1, True, 1.5])
def test_bad_bounds_fail_at_construction(max_queued: object) -> None:
    with pytest.raises(ConfigurationError):
        Broadcast(max_queued=max_queued)  # type: ignore[arg-type]


async def test_bad_channels_and_data_are_refused() -> None:
    broadcast = Broadcast()
    with pytest.raises(ValueError, match="channel"):
        broadcast.subscribe("")
    with pytest.raises(TypeError, match="str or bytes"):
        await broadcast.publish("c", {"not": "encoded"})  # type: ignore[arg-type]
