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

from ambi import App, File, Request, UploadFile
from ambi._testing_wire import _RSGIHeaders, _RSGIProto
from ambi.exceptions import BodyTimeout, ConfigurationError
from ambi.params import parse_size
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


class _GranianCollect(_GranianBody):
    """Granian's `await proto()` (the body collected whole): `frames` joined, or never
    (a `None` frame: a stalled client); counts the calls of each way of reading."""

    def __init__(self, frames: list[bytes | None]) -> None:
        super().__init__(frames)
        self.collected = 0
        self.iterated = 0

    async def __call__(self) -> bytes:
        self.collected += 1
        if None in self._frames:
            await asyncio.Event().wait()
        return b"".join(frame for frame in self._frames if frame is not None)

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.iterated += 1
        return super().__aiter__()


async def _rsgi_with_length(app: App, length: int, frames: list[bytes | None]) -> _GranianCollect:
    await app.startup()
    proto = _GranianCollect(frames)
    headers = [("host", "t"), ("content-length", str(length))]
    try:
        await app.__rsgi__(_Scope("/whole", headers, "1.1"), proto)  # type: ignore[arg-type]
    finally:
        await app.shutdown()
    return proto


@pytest.mark.parametrize(
    ("length", "allowed"),
    [(1000, 0.2), (64 * 1024, 0.2), (64 * 1024 + 1, 0.4), (100_000, 0.4), (256 * 1024, 0.8)],
)
def test_a_body_read_with_one_call_may_take_the_timeout_per_64_kib(
    length: int, allowed: float
) -> None:
    """Under a body timeout, Granian's one-call read serves a Content-Length body up to
    256 KiB (one hand-off instead of one per chunk), bounded by the timeout per 64 KiB."""
    RECORDED.clear()
    start = time.monotonic()
    proto = asyncio.run(_rsgi_with_length(_app(body_timeout=0.2), length, [b"x", None]))
    assert allowed <= time.monotonic() - start < allowed + 1.5
    assert (proto.collected, proto.iterated) == (1, 0)
    assert proto.status == 408
    detail = f'{{"detail":"request body timed out: no data for {allowed:g} s"}}'
    assert b"".join(proto.chunks) == detail.encode()
    body = b"y" * length
    whole = asyncio.run(_rsgi_with_length(_app(body_timeout=0.2), length, [body]))
    assert (whole.status, whole.collected, whole.iterated) == (200, 1, 0)
    assert [body] == RECORDED


def test_a_longer_body_is_read_in_chunks_each_within_the_timeout() -> None:
    RECORDED.clear()
    length = 256 * 1024 + 1
    start = time.monotonic()
    stalled = asyncio.run(_rsgi_with_length(_app(body_timeout=0.2), length, [b"x", None]))
    assert 0.2 <= time.monotonic() - start < 1.5
    assert (stalled.status, stalled.collected, stalled.iterated) == (408, 0, 1)
    body = b"y" * length
    frames: list[bytes | None] = [body[:1000], body[1000:]]
    whole = asyncio.run(_rsgi_with_length(_app(body_timeout=0.2), length, frames))
    assert (whole.status, whole.collected, whole.iterated) == (200, 0, 1)
    # without a body timeout, any length is read with one call
    whole = asyncio.run(_rsgi_with_length(_app(body_timeout=None), length, [body]))
    assert (whole.status, whole.collected, whole.iterated) == (200, 1, 0)
    assert [body, body] == RECORDED


def _form_body(size: int) -> tuple[str, bytes]:
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
        ).encode()
        + b"z" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


async def _upload(app: App, body: bytes, content_type: str) -> _GranianCollect:
    await app.startup()
    proto = _GranianCollect([body])
    headers = [("host", "t"), ("content-length", str(len(body))), ("content-type", content_type)]
    try:
        await app.__rsgi__(_Scope("/upload", headers, "1.1"), proto)  # type: ignore[arg-type]
    finally:
        await app.shutdown()
    return proto


@pytest.mark.parametrize(
    ("size", "max_size", "whole"),
    [
        (100_000, "1MB", True),  # within every limit: read with one call, parsed at once
        (300_000, "1MB", False),  # over 256 KiB: parsed as it arrives
        (100_000, "50KB", False),  # could cross the file's limit: 413 before the rest
        (2_000, "50KB", True),
    ],
)
def test_a_small_form_is_read_with_one_call(size: int, max_size: str, whole: bool) -> None:
    app = App()

    @app.post("/upload")
    async def upload(file: UploadFile = File(max_size=max_size)) -> Any:
        return {"size": file.size, "data": (await file.read()) == b"z" * size}

    content_type, body = _form_body(size)
    proto = asyncio.run(_upload(app, body, content_type))
    assert (proto.collected, proto.iterated) == ((1, 0) if whole else (0, 1))
    if size > parse_size(max_size):
        assert proto.status == 413
    else:
        assert (proto.status, b"".join(proto.chunks)) == (200, b'{"size":%d,"data":true}' % size)


def test_a_small_body_of_another_type_is_415_before_it_is_read() -> None:
    app = App()

    @app.post("/upload")
    async def upload(file: UploadFile) -> Any:
        return file.size

    proto = asyncio.run(_upload(app, b'{"a": 1}', "application/json"))
    assert (proto.status, proto.collected, proto.iterated) == (415, 0, 0)
