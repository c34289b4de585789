"""Server-sent events: `EventSourceResponse` and `ServerSentEvent`, with sse-starlette's
names and constructor arguments, so its users' handlers port by changing the import.

    @app.get("/clock")
    async def clock(request):
        async def ticks():
            while True:
                yield {"event": "tick", "data": time.time()}
                await asyncio.sleep(1)
        return EventSourceResponse(ticks(), ping=15)

The generator is sync or async and yields strings (the data), dicts (the keywords of
`ServerSentEvent`), `ServerSentEvent` objects or bytes (sent as they are). While it yields
nothing for `ping` seconds a comment line keeps proxies from closing the connection. When
the client leaves, the generator is stopped and closed: its `finally` runs (see
`_streams.py`). The handler reads the reconnecting client's `Last-Event-ID` header as any
other: `last_event_id: str | None = Header(None)`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._responses import StreamingResponse
from ._streams import TIMEOUT, ItemSource

if TYPE_CHECKING:
    from ..execution import Engine

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SEPARATORS = ("\r\n", "\r", "\n")


class ServerSentEvent:
    """One event: `data` (any value, as `str(data)`; one `data:` line per line of it),
    `event`, `id`, `retry` (milliseconds) and a `comment`."""

    __slots__ = ("comment", "data", "event", "id", "retry", "sep")

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
        sep: str | None = None,
    ) -> None:
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int)):
            raise TypeError(f"retry must be an int (milliseconds), not {retry!r}")
        if sep is not None and sep not in _SEPARATORS:
            raise ValueError(f"sep must be one of \\r\\n, \\r, \\n, not {sep!r}")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment
        self.sep = sep or "\r\n"

    def encode(self) -> bytes:
        """The event on the wire, ending with the blank line that dispatches it."""
        sep = self.sep
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(str(self.comment)))
        if self.id is not None:
            lines.append("id: " + _LINE_BREAK.sub("", str(self.id)))
        if self.event is not None:
            lines.append("event: " + _LINE_BREAK.sub("", str(self.event)))
        if self.data is not None:
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(str(self.data)))
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        return (sep.join(lines) + sep + sep).encode("utf-8")

    def __repr__(self) -> str:
        return f"ServerSentEvent(data={self.data!r}, event={self.event!r}, id={self.id!r})"


def encode_event(item: Any, sep: str) -> bytes:
    """One yielded item on the wire."""
    if isinstance(item, bytes | bytearray | memoryview):
        return bytes(item)
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, Mapping):
        return ServerSentEvent(**{"sep": sep, **item}).encode()
    return ServerSentEvent(str(item), sep=sep).encode()


class EventSourceResponse(StreamingResponse):
    """A `text/event-stream` response over a sync or async generator of events.

    `ping` (seconds, default 15; 0 turns it off) is the longest silence before a keep-alive
    comment is sent, `ping_message_factory()` builds that comment's event instead, `sep`
    is the line separator (`\\r\\n` by default). Headers: `Cache-Control: no-store` (unless
    given), `X-Accel-Buffering: no` (nginx passes each event on at once).
    """

    DEFAULT_PING_INTERVAL = 15
    DEFAULT_SEPARATOR = "\r\n"

    def __init__(
        self,
        content: Iterable[Any] | AsyncIterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = "text/event-stream",
        *,
        ping: float | None = None,
        sep: str | None = None,
        ping_message_factory: Callable[[], ServerSentEvent] | None = None,
    ) -> None:
        if sep is not None and sep not in _SEPARATORS:
            raise ValueError(f"sep must be one of \\r\\n, \\r, \\n, not {sep!r}")
        interval = self.DEFAULT_PING_INTERVAL if ping is None else ping
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 0:
            raise ValueError(f"ping must be a number of seconds >= 0 (0: no ping), not {ping!r}")
        self.sep = sep or self.DEFAULT_SEPARATOR
        self.ping_interval = interval
        self.ping_message_factory = ping_message_factory
        super().__init__(content, status_code, headers, media_type)
        self.headers.setdefault("cache-control", "no-store")
        self.headers["x-accel-buffering"] = "no"

    def _ping(self) -> bytes:
        factory = self.ping_message_factory
        if factory is not None:
            return encode_event(factory(), self.sep)
        now = datetime.datetime.now(datetime.UTC)
        return ServerSentEvent(comment=f"ping - {now}", sep=self.sep).encode()

    async def body_chunks(self, engine: Engine) -> AsyncGenerator[bytes, None]:
        source = ItemSource(self.content, engine)
        interval, sep = self.ping_interval, self.sep
        try:
            while True:
                try:
                    item = await (source.next_within(interval) if interval else source.next())
                except StopAsyncIteration:
                    return
                yield self._ping() if item is TIMEOUT else encode_event(item, sep)
        finally:
            await source.close()
