"""Server-sent events in process: the wire format (multi-line data, fields, comments,
separators), what a generator may yield, pings while it is silent, the headers, and
`ItemSource` closing sync and async generators that are waiting."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, EventSourceResponse, ServerSentEvent
from ambi.execution import Engine
from ambi.http._streams import TIMEOUT, ItemSource
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]


def test_an_event_with_every_field() -> None:
    event = ServerSentEvent("a\nb\r\nc\rd", event="up\ndate", id="4\r2", retry=1500, comment="hi")
    assert event.encode() == (
        b": hi\r\nid: 42\r\nevent: update\r\ndata: a\r\ndata: b\r\ndata: c\r\ndata: d\r\n"
        b"retry: 1500\r\n\r\n"
    )
    assert ServerSentEvent(3, sep="\n").encode() == b"data: 3\n\n"
    assert ServerSentEvent(comment="only\nnotes").encode() == b": only\r\n: notes\r\n\r\n"


@given(st.text())
def test_multi_line_data_comes_back_whole(data: str) -> None:
    """What a browser's EventSource would rebuild from the data lines is the data, with
    its line breaks normalised to \\n."""
    wire = ServerSentEvent(data).encode().decode()
    assert wire.endswith("\r\n\r\n")
    lines = wire[: -len("\r\n\r\n")].split("\r\n")
    assert all(line.startswith("data: ") for line in lines)
    rebuilt = "\n".join(line[len("data: ") :] for line in lines)
    assert rebuilt == data.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("bad", [{"retry": "soon"}, {"retry": 1.5}, {"sep": "\t"}])
def test_bad_event_fields_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        ServerSentEvent("x", **bad)


@pytest.mark.parametrize("bad", [{"ping": -1}, {"ping": "often"}, {"sep": "\r\r"}])
def test_bad_response_options_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the option
        EventSourceResponse(iter([]), **bad)


def items() -> list[Any]:
    return [
        "plain",
        {"data": "from a dict", "event": "e", "id": "2"},
        ServerSentEvent("an object", retry=10),
        b"event: raw\r\ndata: bytes as they are\r\n\r\n",
        7,
    ]


EXPECTED = (
    "data: plain\r\n\r\n"
    "id: 2\r\nevent: e\r\ndata: from a dict\r\n\r\n"
    "data: an object\r\nretry: 10\r\n\r\n"
    "event: raw\r\ndata: bytes as they are\r\n\r\n"
    "data: 7\r\n\r\n"
)


def test_sync_and_async_generators_of_anything(client_for: ClientFor, handler_kind: str) -> None:
    app = App()

    def sync_events() -> Iterator[Any]:
        yield from items()

    async def async_events() -> AsyncIterator[Any]:
        for item in items():
            yield item

    @app.get("/events")
    def events() -> EventSourceResponse:
        return EventSourceResponse(sync_events() if handler_kind == "sync" else async_events())

    response = client_for(app).get("/events")
    assert response.text == EXPECTED
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"


def test_given_headers_and_separator(client_for: ClientFor) -> None:
    app = App()

    @app.get("/events")
    async def events() -> EventSourceResponse:
        return EventSourceResponse(
            iter(["a"]), headers={"Cache-Control": "public, max-age=5", "X-Feed": "1"}, sep="\n"
        )

    response = client_for(app).get("/events")
    assert response.text == "data: a\n\n"
    assert response.headers["cache-control"] == "public, max-age=5"
    assert response.headers["x-feed"] == "1"


def test_pings_while_the_generator_is_silent(client_for: ClientFor, handler_kind: str) -> None:
    app = App()

    def slow_sync() -> Iterator[str]:
        time.sleep(0.35)
        yield "late"

    async def slow_async() -> AsyncIterator[str]:
        await asyncio.sleep(0.35)
        yield "late"

    @app.get("/events")
    def events() -> EventSourceResponse:
        content = slow_sync() if handler_kind == "sync" else slow_async()
        return EventSourceResponse(
            content, ping=0.1, ping_message_factory=lambda: ServerSentEvent(comment="beat")
        )

    text = client_for(app).get("/events").text
    assert text.endswith("data: late\r\n\r\n")
    assert 2 <= text.count(": beat\r\n\r\n") <= 4


def test_the_default_ping_is_a_timestamped_comment() -> None:
    response = EventSourceResponse(iter([]), ping=0.5)
    assert response.ping_interval == 0.5
    assert response._ping().startswith(b": ping - 20")


async def test_closing_a_waiting_async_generator_runs_its_finally() -> None:
    finished = asyncio.Event()

    async def endless() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.sleep(3600)
            yield 2
        finally:
            finished.set()

    engine = Engine(sync_workers=1)
    engine.start()
    try:
        source = ItemSource(endless(), engine)
        assert await source.next() == 1
        assert await source.next_within(0.05) is TIMEOUT  # now waiting in its sleep
        await asyncio.wait_for(source.close(), 1)
        assert finished.is_set()
    finally:
        engine.stop()


async def test_closing_a_sync_generator_waits_for_its_thread_then_closes_it() -> None:
    state: dict[str, Any] = {"nexts": 0, "closed_in": None}
    release = threading.Event()

    def blocking() -> Iterator[int]:
        try:
            while True:
                state["nexts"] += 1
                release.wait(5)
                yield state["nexts"]
        finally:
            state["closed_in"] = threading.current_thread().name

    engine = Engine(sync_workers=2)
    engine.start()
    try:
        source = ItemSource(blocking(), engine)
        release.set()
        assert await source.next() == 1
        release.clear()
        assert await source.next_within(0.05) is TIMEOUT  # a thread is inside next()
        closing = asyncio.ensure_future(source.close())
        await asyncio.sleep(0.05)
        assert not closing.done()  # it waits for that next() to return ...
        release.set()
        await asyncio.wait_for(closing, 2)
        assert state["nexts"] == 2  # ... and asks for no other item
        assert state["closed_in"].startswith("ambi-worker")  # closed in the pool
    finally:
        engine.stop()
