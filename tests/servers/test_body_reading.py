"""The adapters' body readers in-process, over both interfaces, with server stand-ins that
behave as the real ones do on broken input (Granian's RSGI iterator: b'' for an error;
ASGI: `http.disconnect`; a client that stalls): never a short body taken as complete, the
body timeout, the Host check. (The same cases on real servers: test_hostile_clients.py.)"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ambi import App, Request
from ambi._testing_wire import _RSGIHeaders, _RSGIProto
from ambi.exceptions import BodyTimeout, ConfigurationError
from ambi.servers._deadlines import _BY_LOOP, body_deadlines

RECORDED: list[bytes] = []


def _app(**options: Any) -> App:
    app = App(**options)

    @app.post("/whole")
    async def whole(request: Request) -> Any:
        RECORDED.append(bytes(request.body))
        return {"size": len(request.body)}

    @app.post("/stream", stream_body=True)
    async def stream(request: Request) -> Any:
        parts = [chunk async for chunk in request.stream()]
        RECORDED.append(b"".join(parts))
        return {"size": sum(map(len, parts))}

    return app


class _Scope:
    proto = "http"
    client = "127.0.0.1:5000"
    server = "127.0.0.1:8000"
    scheme = "http"
    method = "POST"
    query_string = ""

    def __init__(self, path: str, headers: list[tuple[str, str]], http_version: str) -> None:
        self.path = path
        self.http_version = http_version
        self.headers = _RSGIHeaders(headers)


class _GranianBody(_RSGIProto):
    """Granian 2.8.9's RSGI body iterator: `frames`, then b'' (None) and the end; a
    `None` frame never resolves (a stalled client)."""

    def __init__(self, frames: list[bytes | None]) -> None:
        super().__init__(b"")
        self._frames = frames

    async def _iter(self) -> AsyncIterator[bytes]:
        for frame in self._frames:
            if frame is None:
                await asyncio.Event().wait()
            yield frame  # type: ignore[misc]
        yield b""


CHUNKED = [("host", "t"), ("transfer-encoding", "chunked")]


async def _rsgi(
    app: App, path: str, frames: list[bytes | None], version: str = "1.1"
) -> _RSGIProto:
    await app.startup()
    proto = _GranianBody(frames)
    try:
        await app.__rsgi__(_Scope(path, CHUNKED, version), proto)  # type: ignore[arg-type]
    finally:
        await app.shutdown()
    return proto


async def _asgi(
    app: App,
    path: str,
    messages: list[dict[str, Any] | None],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[dict[str, Any]]:
    await app.startup()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        message = messages.pop(0) if messages else None
        if message is None:
            await asyncio.Event().wait()
        return message  # type: ignore[return-value]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": headers
        if headers is not None
        else [(b"host", b"t"), (b"transfer-encoding", b"chunked")],
    }
    try:
        await app(scope, receive, send)
    finally:
        await app.shutdown()
    return sent


@pytest.mark.parametrize("path", ["/whole", "/stream"])
def test_granian_rsgi_broken_body_is_400_and_never_complete(path: str) -> None:
    RECORDED.clear()
    # a read error: b'' for the error, b'' for hyper's None after it, then the end
    proto = asyncio.run(_rsgi(_app(), path, [b"hello", b""]))
    assert proto.status == 400
    assert b"".join(proto.chunks) == b'{"detail":"request body incomplete or malformed"}'
    assert RECORDED == []


@pytest.mark.parametrize("path", ["/whole", "/stream"])
def test_granian_rsgi_whole_body_and_h2_empty_end_frame(path: str) -> None:
    RECORDED.clear()
    assert asyncio.run(_rsgi(_app(), path, [b"hel", b"lo"])).status == 200
    # HTTP/2: an empty DATA frame with END_STREAM gives the same two empty chunks: legal
    assert asyncio.run(_rsgi(_app(), path, [b"hello", b""], version="2")).status == 200
    assert RECORDED == [b"hello", b"hello"]


@pytest.mark.parametrize("path", ["/whole", "/stream"])
def test_asgi_disconnect_mid_body_answers_400_without_the_handler(path: str) -> None:
    RECORDED.clear()
    messages: list[dict[str, Any] | None] = [
        {"type": "http.request", "body": b"hello", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = asyncio.run(_asgi(_app(), path, messages))
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b'{"detail":"request body incomplete or malformed"}'
    assert RECORDED == []


@pytest.mark.parametrize("path", ["/whole", "/stream"])
@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_a_stalled_body_times_out_with_408(interface: str, path: str) -> None:
    RECORDED.clear()
    app = _app(body_timeout=0.2)
    start = time.monotonic()
    if interface == "rsgi":
        proto = asyncio.run(_rsgi(app, path, [b"hello", None]))
        status, body = proto.status, b"".join(proto.chunks)
    else:
        first = {"type": "http.request", "body": b"hello", "more_body": True}
        sent = asyncio.run(_asgi(app, path, [first, None]))
        status, body = sent[0]["status"], sent[1]["body"]
    assert 0.2 <= time.monotonic() - start < 1.5
    assert status == 408
    assert body == b'{"detail":"request body timed out: no data for 0.2 s"}'
    assert RECORDED == []


def test_a_cancel_from_elsewhere_is_not_a_timeout() -> None:
    async def main() -> None:
        app = App(body_timeout=5)
        clock = body_deadlines(app)
        assert clock is not None
        reader = asyncio.ensure_future(clock.read(asyncio.Event().wait()))
        await asyncio.sleep(0.01)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        assert not clock.waiting

    asyncio.run(main())


def test_a_read_that_times_out_and_the_sweeper() -> None:
    async def main() -> None:
        app = App(body_timeout=0.2)
        clock = body_deadlines(app)
        assert clock is not None
        assert clock is body_deadlines(app)  # one per loop
        assert clock._handle is None  # no timer while no body is read
        assert await clock.read(asyncio.sleep(0.01, "chunk")) == "chunk"
        assert not clock.waiting
        await asyncio.sleep(0.1)  # the timer's last run finds nothing and stops
        assert clock._handle is None
        start = time.monotonic()
        with pytest.raises(BodyTimeout):
            await clock.read(asyncio.Event().wait())
        assert 0.2 <= time.monotonic() - start < 1.5  # (a lost timer would hang)
        current = asyncio.current_task()
        assert current is not None
        assert current.cancelling() == 0  # the sweeper's cancel was taken back
        assert not clock.waiting
        assert asyncio.get_running_loop() in _BY_LOOP

    asyncio.run(main())
    assert App(body_timeout=None).body_timeout is None


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, "30", True])
def test_body_timeout_must_be_positive_seconds(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="body_timeout"):
        App(body_timeout=value)


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
@pytest.mark.parametrize(
    ("hosts", "detail"),
    [
        (["a.example", "b.example"], "more than one Host header"),
        (["evil.example?a="], "invalid Host header"),
    ],
)
def test_bad_host_is_400_before_routing(interface: str, hosts: list[str], detail: str) -> None:
    app = App()
    app.get("/")(lambda: {"routed": True})
    headers = [("host", host) for host in hosts]
    if interface == "rsgi":
        scope = _Scope("/", headers, "1.1")
        scope.method = "GET"  # type: ignore[misc]
        proto = _RSGIProto(b"")

        async def run() -> None:
            await app.startup()
            await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
            await app.shutdown()

        asyncio.run(run())
        status, body = proto.status, b"".join(proto.chunks)
    else:
        sent = asyncio.run(_asgi(app, "/nowhere", [], [(b"host", h.encode()) for h in hosts]))
        status, body = sent[0]["status"], sent[1]["body"]
    assert status == 400
    assert body == f'{{"detail":"{detail}"}}'.encode()


@pytest.mark.parametrize("path", ["/whole", "/stream"])
def test_http2_body_without_content_length_is_read(path: str) -> None:
    """HTTP/2 needs neither Content-Length nor chunked framing: the body is read (it was
    taken as empty), and an empty one is empty."""
    RECORDED.clear()

    async def run(frames: list[bytes | None]) -> _RSGIProto:
        app = _app()
        await app.startup()
        proto = _GranianBody(frames)
        try:
            scope = _Scope(path, [("host", "t")], "2")
            await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
        finally:
            await app.shutdown()
        return proto

    assert asyncio.run(run([b"hel", b"lo"])).status == 200
    assert asyncio.run(run([])).status == 200
    assert RECORDED == [b"hello", b""]
