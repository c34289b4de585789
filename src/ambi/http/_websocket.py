"""The websocket connection handed to websocket handlers, protocol-neutral.

Method names and states are Starlette's, so FastAPI users' handlers run unchanged. The
wire is a `WebSocketTransport`, one per server interface (`ambi.servers._ws_asgi`,
`ambi.servers._ws_rsgi`).

Where Starlette lets an error through, ambi closes the connection with the close code the
protocol has for it and raises `WebSocketDisconnect(code)`, so the handler's cleanup runs
and no client input becomes a server error: a message over the route's size limit (1009),
text where bytes were expected or the reverse (1003), JSON that does not parse (1007).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

import orjson

from ..exceptions import WebSocketDisconnect
from ._headers import Headers, QueryParams, parse_cookies
from ._request import URL, State
from ._responses import Response, dump_json

if TYPE_CHECKING:
    from ..app import App

__all__ = ["WebSocket", "WebSocketState", "WebSocketTransport"]

#: A close frame carries at most 125 bytes: the 2-byte code and up to 123 of reason.
MAX_REASON_BYTES = 123


class WebSocketState(enum.Enum):
    """Where one side of the connection is (`client_state`, `application_state`)."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocketTransport(Protocol):
    """The wire of one websocket connection (each server interface has its own).

    `receive`, `send_text` and `send_bytes` raise `WebSocketDisconnect` once the client has
    gone; `close` before `accept` refuses the handshake (HTTP 403), and never raises.
    `deny` before `accept` refuses it with an HTTP response of `status` (what of `headers`
    and `body` the wire can carry), and returns False when the wire carries none (an ASGI
    server without the websocket denial-response extension: the caller closes instead).
    """

    async def accept(self, subprotocol: str | None, headers: list[tuple[str, str]]) -> None: ...
    async def receive(self) -> str | bytes: ...
    async def send_text(self, data: str) -> None: ...
    async def send_bytes(self, data: bytes) -> None: ...
    async def close(self, code: int, reason: str) -> None: ...
    async def deny(self, status: int, headers: list[tuple[str, str]], body: bytes) -> bool: ...


HeaderItems = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


def _header_list(headers: HeaderItems | None) -> list[tuple[str, str]]:
    """Handshake headers as lower-cased str pairs (Starlette takes `(bytes, bytes)` pairs)."""
    if not headers:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [
        (
            (k.decode("latin-1") if isinstance(k, bytes) else k).lower(),
            v.decode("latin-1") if isinstance(v, bytes) else v,
        )
        for k, v in pairs
    ]


def _clip(reason: str | None) -> str:
    """`reason` cut to what fits in a close frame, on a character boundary."""
    if not reason:
        return ""
    encoded = reason.encode("utf-8")
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    return encoded[:MAX_REASON_BYTES].decode("utf-8", "ignore")


def _too_big(data: str | bytes, limit: int) -> bool:
    size = len(data)
    if size <= limit // 4 or not isinstance(data, str):
        return size > limit
    # A character is 1 to 4 bytes of UTF-8: only text near the limit needs counting.
    return size > limit or len(data.encode("utf-8")) > limit


def _check_mode(mode: str) -> None:
    if mode not in ("text", "binary"):
        raise RuntimeError('The "mode" argument should be "text" or "binary".')


class WebSocket:
    """One websocket connection: the handshake's headers, query, cookies and path
    parameters, and the calls that accept, receive, send and close."""

    #: The handshake's method (what request-shaped code, such as log labels, reads).
    method = "GET"

    __slots__ = (
        "_after",
        "_cookies",
        "_headers",
        "_query",
        "_state",
        "_transport",
        "app",
        "application_state",
        "auth",
        "client",
        "client_state",
        "http_version",
        "max_size",
        "path",
        "path_params",
        "query_string",
        "raw_headers",
        "root_path",
        "scheme",
        "server",
    )

    def __init__(
        self,
        app: App,
        path: str,
        query_string: str,
        raw_headers: list[tuple[str, str]],
        transport: WebSocketTransport,
        *,
        client: tuple[str, int] | None = None,
        server: str = "",
        scheme: str = "ws",
        http_version: str = "1.1",
    ) -> None:
        self.app = app
        self.path = path
        self.query_string = query_string
        self.raw_headers = raw_headers
        self.client = client
        self.server = server
        self.scheme = scheme
        self.http_version = http_version
        self.path_params: dict[str, Any] = {}
        #: The part of the URL path before `path`: the app's root_path (as on a Request).
        self.root_path = ""
        #: The largest message accepted, in bytes (the route's limit; None: no limit).
        self.max_size: int | None = None
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._transport = transport
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: State | None = None
        self._after: Any = None  # work after the handler (AfterResponse, or a PendingExit pair)
        #: What authenticated the handshake (the claims of a verified JWT), else None.
        self.auth: Any = None

    # The handshake, parsed on first use -----------------------------------------------------

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers

    def _header(self, name: str) -> str | None:
        """`headers.get(name)` for a lower-case `name`: what a `Header()` parameter reads,
        from a request (`Request._header`) and from a websocket alike."""
        return self.headers.get(name)

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self.query_string)
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = parse_cookies(self.headers.get("cookie", ""))
        return self._cookies

    @property
    def state(self) -> State:
        if self._state is None:
            # Starlette's lifespan state: what the lifespan yielded, copied per connection.
            self._state = State(**self.app.lifespan_state)
        return self._state

    @property
    def url(self) -> URL:
        host = self.headers.get("host") or self.server or "localhost"
        query = f"?{self.query_string}" if self.query_string else ""
        return URL(f"{self.scheme}://{host}{quote(self.root_path + self.path)}{query}")

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        offered = self.headers.getlist("sec-websocket-protocol")
        return [p.strip() for value in offered for p in value.split(",") if p.strip()]

    async def finish(self) -> None:
        """Run the work left for after the handler (the cleanup of dependencies with
        `yield`, background tasks); the app calls it once the handler is done."""
        after, self._after = self._after, None
        if type(after) is tuple:  # a PendingExit pair (see `Request.finish`)
            await after[0].run(after[1])
        elif after is not None:
            await after.run()

    # Accepting and closing ------------------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: HeaderItems | None = None
    ) -> None:
        """Complete the handshake, choosing `subprotocol` and adding `headers`."""
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError('Cannot call "accept" more than once, or after "close".')
        await self._transport.accept(subprotocol, _header_list(headers))
        self.application_state = WebSocketState.CONNECTED
        self.client_state = WebSocketState.CONNECTED

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with `code` and `reason` (refuse the handshake if not accepted yet).
        Closing a connection that is already over does nothing."""
        if self.application_state is WebSocketState.DISCONNECTED:
            return
        self.application_state = WebSocketState.DISCONNECTED
        await self._transport.close(code, _clip(reason))

    async def send_denial_response(self, response: Response) -> None:
        """Refuse the handshake with `response` (Starlette's name): its status, headers and
        body where the server has the websocket denial-response extension; Granian's RSGI
        interface sends the status alone. Without the extension: `RuntimeError`."""
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError("A denial response can only be sent before the accept.")
        if not await self._deny(response):
            raise RuntimeError("The server does not support the websocket denial response.")

    async def _deny(self, response: Response) -> bool:
        """`send_denial_response`, telling whether the wire took it (False: nothing sent)."""
        sent = await self._transport.deny(
            response.status_code, response.header_list(), response.body
        )
        if sent:
            self.application_state = WebSocketState.DISCONNECTED
            self.client_state = WebSocketState.DISCONNECTED
        return sent

    async def _refuse(self, code: int, reason: str) -> None:
        """Close for a message the handler cannot take, and tell the handler."""
        await self.close(code, reason)
        self.client_state = WebSocketState.DISCONNECTED
        raise WebSocketDisconnect(code, reason)

    # Receiving ------------------------------------------------------------------------------

    async def _next(self) -> str | bytes:
        if self.application_state is not WebSocketState.CONNECTED:
            if self.client_state is WebSocketState.DISCONNECTED:
                raise RuntimeError(
                    'Cannot call "receive" once a disconnect message has been received.'
                )
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
        try:
            data = await self._transport.receive()
        except WebSocketDisconnect:
            self.client_state = WebSocketState.DISCONNECTED
            self.application_state = WebSocketState.DISCONNECTED
            raise
        limit = self.max_size
        if limit is not None and _too_big(data, limit):
            await self._refuse(1009, f"message larger than {limit} bytes")
        return data

    async def receive(self) -> dict[str, Any]:
        """The next message in Starlette's (ASGI) shape: `{"type": "websocket.receive",
        "text": ...}` or `"bytes"`, or `{"type": "websocket.disconnect", "code": ...}`."""
        if self.client_state is WebSocketState.CONNECTING:
            self.client_state = WebSocketState.CONNECTED
            return {"type": "websocket.connect"}
        try:
            data = await self._next()
        except WebSocketDisconnect as exc:
            return {"type": "websocket.disconnect", "code": exc.code, "reason": exc.reason}
        if isinstance(data, str):
            return {"type": "websocket.receive", "text": data}
        return {"type": "websocket.receive", "bytes": data}

    async def receive_text(self) -> str:
        data = await self._next()
        if not isinstance(data, str):
            await self._refuse(1003, "expected a text message")
        return data  # type: ignore[return-value]  # _refuse raised otherwise

    async def receive_bytes(self) -> bytes:
        data = await self._next()
        if not isinstance(data, bytes):
            await self._refuse(1003, "expected a binary message")
        return data  # type: ignore[return-value]  # _refuse raised otherwise

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message decoded as JSON (`mode="binary"`: from a binary message)."""
        _check_mode(mode)
        data = await (self.receive_text() if mode == "text" else self.receive_bytes())
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            await self._refuse(1007, "invalid JSON")

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client leaves."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client leaves."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client leaves."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    # Sending --------------------------------------------------------------------------------

    def _check_sendable(self) -> None:
        state = self.application_state
        if state is not WebSocketState.CONNECTED:
            if state is WebSocketState.CONNECTING:
                raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
            if self.client_state is WebSocketState.DISCONNECTED:
                raise WebSocketDisconnect(1006, "the client has gone")
            raise RuntimeError('Cannot call "send" once a close message has been sent.')

    async def _sent(self, data: str | bytes) -> None:
        try:
            if isinstance(data, str):
                await self._transport.send_text(data)
            else:
                await self._transport.send_bytes(data)
        except WebSocketDisconnect:
            self.client_state = WebSocketState.DISCONNECTED
            self.application_state = WebSocketState.DISCONNECTED
            raise

    async def send_text(self, data: str) -> None:
        self._check_sendable()
        await self._sent(data)

    async def send_bytes(self, data: bytes) -> None:
        self._check_sendable()
        await self._sent(bytes(data))

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send `data` as JSON (dicts, lists, pydantic models, dataclasses, dates...)."""
        _check_mode(mode)
        self._check_sendable()
        encoded = dump_json(data)
        await self._sent(encoded.decode("utf-8") if mode == "text" else encoded)

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send a message in Starlette's (ASGI) shape: `websocket.accept`,
        `websocket.send` (with `text` or `bytes`) or `websocket.close`."""
        kind = message.get("type")
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"), message.get("headers"))
        elif kind == "websocket.send":
            text = message.get("text")
            if text is not None:
                await self.send_text(text)
            else:
                await self.send_bytes(message.get("bytes") or b"")
        elif kind == "websocket.close":
            await self.close(message.get("code", 1000), message.get("reason"))
        else:
            raise RuntimeError(f"unknown websocket message type {kind!r}")

    def __repr__(self) -> str:
        return f"<WebSocket {self.path} {self.application_state.name}>"
