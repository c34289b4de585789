"""Reading a request's body: whole, as JSON, as a form while it arrives, or as a stream;
the announced length and the limits checked before a byte is read. `Request` inherits it
(`ambi.http._request`)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson

from ..exceptions import HTTPException
from ._awaitable import Later, Ready, RequestBody, UnreadBody, awaitable_json, awaited_by_caller
from ._formdata import FormData
from ._multipart import FormLimits, parse_form, read_form, read_whole_form, too_large

if TYPE_CHECKING:
    from ..app import App
    from ._headers import Headers


class BodySource(Protocol):
    """How an adapter hands the request body over (each server interface has its own)."""

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (an async generator: closed with `aclose()`)."""
        ...

    async def read_exact(self, length: int) -> bytes:
        """The whole body, announced by Content-Length as `length` bytes, in one call."""
        ...


class BodyReading:
    """The body half of `Request` (its slots are the request's own)."""

    # The body's state, set by `Request.__init__`.
    __slots__ = ("_body", "_body_view", "_form", "_json", "_limit", "_source")

    _body: bytes
    _body_view: RequestBody | None
    _form: FormData | None
    _json: Any
    _limit: int | None
    _source: BodySource | None

    if TYPE_CHECKING:  # the request's own, read here
        app: App
        http_version: str
        raw_headers: list[tuple[str, str]]
        _header_dict: dict[str, str] | None
        _headers: Headers | None

        @property
        def headers(self) -> Headers: ...

        @property
        def content_type(self) -> str: ...

    @property
    def body(self) -> RequestBody:
        """The whole body as bytes, also callable: `await request.body()` (Starlette).

        Empty until the body has been read (routes with `stream_body=True` read it
        themselves); there, `await request.body()` reads it.
        """
        view = self._body_view
        if view is not None:
            return view
        body = self._body
        if not body and self._unread():
            return UnreadBody(self._read_whole_body)
        self._body_view = view = RequestBody(body)  # one copy, on first use
        return view

    @body.setter
    def body(self, value: bytes) -> None:
        self._body = bytes(value)
        self._body_view = None

    def _unread(self) -> bool:
        return self._source is not None and self.has_body()

    async def _read_whole_body(self) -> RequestBody:
        await self.read_body(self._limit or self.app.max_body_size)
        return self.body

    def json(self) -> Any:
        """The body decoded as JSON; a 400 error for an empty or malformed body.

        A dict, list, str or int comes back as an awaitable subclass of its type, so
        that `await request.json()` works as well; see `ambi.http._awaitable` for `true`,
        `false`, `null` and fractional numbers.
        """
        if self._json is _UNSET:
            if not self._body and self._unread():
                return Later(self._json_after_read)
            self._json = awaitable_json(self._decode_json())
        value = self._json
        if value is None or type(value) is bool or type(value) is float:
            return Ready(value) if awaited_by_caller(1) else value
        return value

    def _decode_json(self) -> Any:
        if not self._body:
            raise HTTPException(400, "expected a JSON body, got an empty one")
        try:
            return orjson.loads(self._body)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"malformed JSON body: {exc}") from None

    async def _json_after_read(self) -> Any:
        await self.read_body(self._limit or self.app.max_body_size)
        if self._json is _UNSET:
            self._json = awaitable_json(self._decode_json())
        return self._json

    def form(self) -> FormData:
        """The body parsed as a form (urlencoded or multipart).

        On a route that takes form fields or files, the form was parsed as the body arrived
        (files spooled to temporary files); on other routes it is parsed from `body`. The
        `FormData` is also awaitable and an async context manager: `await request.form()`,
        `async with request.form() as form:` (Starlette); on a body not read yet (a
        `stream_body=True` route), those read it.
        """
        if self._form is None:
            app = self.app
            limits = FormLimits(app.max_body_size, app.max_body_size)
            if not self._body and self._unread():
                return Later(lambda: self.read_form(limits))  # type: ignore[return-value]
            self._form = parse_form(self.content_type, self._body, limits)
        return self._form

    async def read_form(self, limits: FormLimits) -> FormData:
        """Read the body as a form while it arrives, within `limits` (413 over one, before
        the rest is read), or, announced no longer than `limits.whole`, with one call and
        then parsed; then `form()` gives it."""
        if self._form is not None:
            return self._form
        if self._source is None or not self.has_body():
            body = self._body
            self._form = parse_form(self.content_type, body, limits) if body else _NO_FORM
            return self._form
        length = self._check_length(limits.body)
        source, self._source = self._source, None
        if length is not None and length <= limits.whole:
            read = functools.partial(source.read_exact, length)
            self._form = await read_whole_form(self.content_type, read, limits)
            return self._form
        async with contextlib.aclosing(_generator(source.chunks())) as chunks:
            engine = self.app.engine
            self._form = await read_form(self.content_type, chunks, limits, engine)
        return self._form

    def text(self) -> str:
        """The body decoded as UTF-8 (a 400 error if it is not)."""
        try:
            return self._body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"body is not valid UTF-8: {exc}") from None

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives, for routes registered with `stream_body=True`, within the
        route's `max_body_size` (a 413 error once the body goes over it). (Apps mounted
        with `app.mount` read it through here too, with no limit of ambi's.)"""
        if self._source is None:
            if self._body:
                yield self._body
            return
        limit = self._limit
        source, self._source = self._source, None
        size = 0
        async with contextlib.aclosing(_generator(source.chunks())) as chunks:
            async for chunk in chunks:
                if chunk:
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise too_large("request body", limit)
                    yield chunk

    def limit_body(self, limit: int) -> None:
        """Set the limit `stream()` enforces; a 413 error now if Content-Length is over it."""
        self._limit = limit
        if self._source is not None:
            self._check_length(limit)

    def _check_length(self, limit: int) -> int | None:
        """The announced Content-Length (None without one); 400 when invalid, 413 when over
        `limit`."""
        length = self.headers.get("content-length")
        if length is None:
            return None
        if not length.isdigit():
            raise HTTPException(400, "invalid Content-Length header")
        size = int(length)
        if size > limit:
            raise too_large("request body", limit)
        return size

    def _announced(self) -> tuple[str | None, bool]:
        """The request's Content-Length (repeats comma-joined) and whether it is chunked."""
        index = self._header_dict
        if index is not None:
            return index.get("content-length"), "transfer-encoding" in index
        headers = self._headers
        if headers is not None:
            return headers.get("content-length"), "transfer-encoding" in headers
        # PERF: the few raw pairs scanned, not indexed: most requests never build
        # `request.headers` otherwise (~20% of GET /json's Python work went to the index;
        # bench_instructions "GET /json"). Repeats join as the index joins them.
        length: str | None = None
        chunked = False
        for name, value in self.raw_headers:
            if name == "content-length":
                length = value if length is None else f"{length}, {value}"
            elif name == "transfer-encoding":
                chunked = True
        return length, chunked

    def _header(self, name: str) -> str | None:
        """`request.headers.get(name)` for a lower-case `name`, without building the
        headers' index when nothing has built it yet.

        PERF: a body route asks only for Content-Type: the dict of the pairs, else the few
        raw pairs scanned, rather than the index built (POST /orders, 68 of its ~1,100
        bytecodes went to the index; bench_instructions "POST /orders"). Repeats join as
        the index joins them.
        """
        index = self._header_dict
        if index is not None:
            return index.get(name)
        headers = self._headers
        if headers is not None:
            return headers.get(name)
        found: str | None = None
        for key, value in self.raw_headers:
            if key == name:
                found = value if found is None or name == "cookie" else f"{found}, {value}"
        return found

    def has_body(self) -> bool:
        """Whether the request announces a body (length > 0 or chunked), or may carry one
        (HTTP/2 and 3 send a body in DATA frames with no Content-Length needed: it is
        read, and may turn out empty).

        PERF: asked before `read_body` by the routes, so that a request without a body
        costs one plain call and no coroutine; answered from the dict of the header pairs
        in one frame when there is one (bench_instructions "GET /json").
        """
        index = self._header_dict
        if index is None:
            return self._announces_body(*self._announced())
        length = index.get("content-length")
        if length is not None:
            return length != "0"
        return "transfer-encoding" in index or self.http_version[:1] in ("2", "3")

    def _announces_body(self, length: str | None, chunked: bool) -> bool:
        if length is not None:
            return length != "0"
        return chunked or self.http_version[:1] in ("2", "3")

    async def read_body(self, limit: int) -> bytes:
        """Read the whole body, refusing (413) one over `limit` bytes."""
        if self._source is None:
            return self._body
        length, chunked = self._announced()
        if length is not None:
            if length == "0":
                return self._body
            if not length.isdigit():
                raise HTTPException(400, "invalid Content-Length header")
            size = int(length)
            if size > limit:
                raise too_large("request body", limit)
            # PERF: the length is known and within the limit: one read, no async generator
            # (12.5 -> 9.8 µs per validated POST in-process; benchmarks/bench_request.py).
            source, self._source = self._source, None
            self._body = await source.read_exact(size)
            self._body_view = None
            return self._body
        if not self._announces_body(length, chunked):
            return self._body
        parts: list[bytes] = []
        size = 0
        async with contextlib.aclosing(self.stream()) as chunks:  # closed now, also on 413
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large("request body", limit)
                parts.append(chunk)
        self._body = b"".join(parts)
        self._body_view = None
        return self._body


def _generator(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    return cast("AsyncGenerator[bytes, None]", chunks)  # what both adapters give


_UNSET: Any = object()
_NO_FORM = FormData()
