"""Test clients: `TestClient` (sync) and `AsyncTestClient`, both on httpx.

Both drive the app in memory through one of its two server interfaces, chosen with
`interface="asgi"` (the default) or `interface="rsgi"`, so a test can run against both
adapters. Used as context managers they run the app's startup and shutdown.

They behave as Starlette's `TestClient` where tests depend on it: redirects are followed
(`follow_redirects=False` to see them), requests carry `User-Agent: testclient`, cookies
the app sets are kept for the next requests, `client.app` is the app, and an error the
app answers with a 500 is raised in the test (`raise_server_exceptions=False` to get
the 500 response instead).

`TestClient.websocket_connect(path)` opens a websocket session, as Starlette's::

    with client.websocket_connect("/ws/lobby") as ws:
        ws.send_text("hello")
        assert ws.receive_json() == {"said": "hello"}

`strict=True` makes a request fail the test (`LoopBlockedError`, an `AssertionError`)
when the event loop stalled while it was served: the app's loop-blocking detector
(`App(loop_block_threshold=...)`, 100 ms by default) saw a handler block the loop, say
with `time.sleep` inside `async def`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

import httpx

from ._testing_wire import _lifespan, _roundtrip
from ._testing_ws import WebSocketDenialResponse, WebSocketTestSession, handshake_headers
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from .app import App
    from .execution import LoopBlock, Watchdog

Interface = Literal["asgi", "rsgi"]
T = TypeVar("T")

__all__ = [
    "AsyncTestClient",
    "LoopBlockedError",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketTestSession",
]


class LoopBlockedError(AssertionError):
    """Strict mode: the event loop stalled while a request was served."""


class _Probe:
    """On the loop while one request is served: the longest the loop went without a turn
    (a timer every millisecond notes each turn)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.longest = 0.0
        self._last = time.monotonic()
        self._handle = loop.call_later(0.001, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self._last)
        self._last = now
        self._handle = self.loop.call_later(0.001, self._tick)

    def stop(self) -> float:
        self._handle.cancel()
        self._tick()  # a stall at the very end of the request counts too
        self._handle.cancel()
        return self.longest


class _Strict:
    """Fails a request during which the event loop stalled: the app's detector reported it
    (with the stack), or the loop went longer than its threshold without a turn."""

    def __init__(self, app: App) -> None:
        threshold = app.engine.block_threshold
        if threshold is None:
            raise ConfigurationError(
                "strict=True needs the loop-blocking detector, which this app turned off "
                "(loop_block_threshold=None)"
            )
        self.app = app
        self.threshold = threshold
        self.blocks: list[LoopBlock] = []
        self._watched: Watchdog | None = None

    def watch(self) -> _Probe:
        """On the app's loop, before a request: the detector runs, and reports here."""
        engine = self.app.engine
        engine.threads_for_loop()  # starts the engine (and its watchdog) on this loop
        watchdog = engine.watchdog
        if watchdog is not None and watchdog is not self._watched:
            watchdog.listeners.append(self.blocks.append)
            self._watched = watchdog
        return _Probe(asyncio.get_running_loop())

    def check(self, probe: _Probe) -> None:
        """On the app's loop, after a request: raise if the loop stalled meanwhile."""
        longest = probe.stop()
        if self._watched is not None:
            self._watched.settle()
        blocks = list(self.blocks)
        self.blocks.clear()
        if blocks:
            raise LoopBlockedError(blocks[0].describe())
        if longest > self.threshold:
            raise LoopBlockedError(
                f"the event loop did not turn for {longest * 1000:.0f} ms while the request "
                f"was served (threshold {self.threshold * 1000:.0f} ms)"
            )


async def _strict_roundtrip(
    app: App,
    interface: Interface,
    request: httpx.Request,
    body: bytes,
    *,
    strict: _Strict | None,
    raise_errors: bool,
) -> httpx.Response:
    if strict is None:
        return await _roundtrip(app, interface, request, body, raise_errors)
    probe = strict.watch()
    response = await _roundtrip(app, interface, request, body, raise_errors)
    strict.check(probe)
    return response


def _client_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """httpx options with Starlette's test-client defaults."""
    headers = httpx.Headers({"user-agent": "testclient"})
    headers.update(kwargs.pop("headers", None) or {})
    kwargs.setdefault("follow_redirects", True)
    return {**kwargs, "headers": headers}


# Clients -----------------------------------------------------------------------------------


class _Portal:
    """An event loop in a thread of its own, for the sync client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ambi-testclient")
        self._thread.daemon = True
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.loop.shutdown_asyncgens(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self._client
        body = request.read()
        return client.portal.call(
            _strict_roundtrip(
                client.app,
                client.interface,
                request,
                body,
                strict=client.strict,
                raise_errors=client.raise_server_exceptions,
            )
        )


class TestClient(httpx.Client):
    """A sync client for `app`. `with TestClient(app) as client:` runs startup/shutdown."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: App,
        *,
        interface: Interface = "asgi",
        base_url: str = "http://testserver",
        strict: bool = False,
        raise_server_exceptions: bool = True,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.interface = interface
        self.strict = _Strict(app) if strict else None
        self.raise_server_exceptions = raise_server_exceptions
        self._portal: _Portal | None = None
        self._lifespan = False
        super().__init__(
            base_url=base_url, transport=_SyncTransport(self), **_client_options(kwargs)
        )

    @property
    def portal(self) -> _Portal:
        if self._portal is None:
            self._portal = _Portal()
        return self._portal

    def __enter__(self) -> Self:
        super().__enter__()
        self.portal.call(_lifespan(self.app, self.interface, "startup"))
        self._lifespan = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            if self._lifespan:
                self._lifespan = False
                self.portal.call(_lifespan(self.app, self.interface, "shutdown"))
        finally:
            super().__exit__(exc_type, exc_value, traceback)
            self.close()

    def websocket_connect(
        self, url: str, subprotocols: list[str] | None = None, **kwargs: Any
    ) -> WebSocketTestSession:
        """A websocket session with the app (use it in a `with`); `kwargs` are httpx's
        request options (`headers=`, `params=`, `cookies=`)."""
        offered = list(subprotocols or [])
        headers = {**dict(kwargs.pop("headers", None) or {}), **handshake_headers(offered)}
        request = self.build_request("GET", url, headers=headers, **kwargs)
        return WebSocketTestSession(self.portal, self.app, self.interface, request, offered)

    def close(self) -> None:
        super().close()
        if self._portal is not None:
            portal, self._portal = self._portal, None
            if self.app.engine.loop is portal.loop:
                self.app.engine.stop(timeout=5)
            portal.close()


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        client = self._client
        return await _strict_roundtrip(
            client.app,
            client.interface,
            request,
            body,
            strict=client.strict,
            raise_errors=client.raise_server_exceptions,
        )


class AsyncTestClient(httpx.AsyncClient):
    """An async client for `app`, on the running loop; `async with` runs startup/shutdown."""

    def __init__(
        self,
        app: App,
        *,
        interface: Interface = "asgi",
        base_url: str = "http://testserver",
        strict: bool = False,
        raise_server_exceptions: bool = True,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.interface = interface
        self.strict = _Strict(app) if strict else None
        self.raise_server_exceptions = raise_server_exceptions
        super().__init__(
            base_url=base_url, transport=_AsyncTransport(self), **_client_options(kwargs)
        )

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        await _lifespan(self.app, self.interface, "startup")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            await _lifespan(self.app, self.interface, "shutdown")
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)
