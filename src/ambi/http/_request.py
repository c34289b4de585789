"""The request object handed to handlers, built by the server adapters."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast
from urllib.parse import quote, unquote, urlsplit

import orjson

from ..exceptions import ConfigurationError, HTTPException
from ._awaitable import Later, Ready, RequestBody, UnreadBody, awaitable_json, awaited_by_caller
from ._formdata import FormData
from ._headers import Headers, QueryParams, parse_cookies
from ._multipart import FormLimits, parse_form, read_form, read_whole_form, too_large

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..app import App
    from ..sessions import Session


class BodySource(Protocol):
    """How an adapter hands the request body over (each server interface has its own)."""

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (an async generator: closed with `aclose()`)."""
        ...

    async def read_exact(self, length: int) -> bytes:
        """The whole body, announced by Content-Length as `length` bytes, in one call."""
        ...


class Address(NamedTuple):
    """The client's address: `request.client.host`, `.port`, or `host, port = ...`."""

    host: str
    port: int


def _parse_client(client: str) -> Address | None:
    """`"host:port"` (`"[::1]:8000"` for IPv6) as an `Address`; None when it is not one."""
    host, sep, port = client.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return Address(host.strip("[]"), int(port))


class State:
    """An attribute bag: `request.state.user = ...`, `app.state.db = ...`."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"State({self.__dict__!r})"


class URL(str):
    """The request URL as a string, with its parts as attributes."""

    __slots__ = ()

    @property
    def scheme(self) -> str:
        return urlsplit(self).scheme

    @property
    def netloc(self) -> str:
        return urlsplit(self).netloc

    @property
    def path(self) -> str:
        return unquote(urlsplit(self).path)

    @property
    def query(self) -> str:
        return urlsplit(self).query


class Request:
    """One HTTP request. Parsed parts (headers, query, cookies, JSON) are built on first use.

    `body` holds the whole body, read before the handler runs (bounded by the app's
    `max_body_size`), except on routes that take form fields or files (the form is parsed
    as it arrives: `request.form()`) and on routes registered with `stream_body=True`,
    which read it with `async for chunk in request.stream()`.

    The body is served in both dialects (see `ambi.http._awaitable`): `request.body` is
    bytes and `request.json()` / `request.form()` give their values (Cello, Catzilla), and
    `await request.body()`, `await request.json()`, `await request.form()` work too
    (Starlette, FastAPI).
    """

    __slots__ = (
        "_after",
        "_body",
        "_body_view",
        "_client",
        "_cookies",
        "_form",
        "_header_dict",
        "_headers",
        "_json",
        "_limit",
        "_query",
        "_response",
        "_session",
        "_source",
        "_state",
        "app",
        "auth",
        "http_version",
        "method",
        "path",
        "path_params",
        "query_string",
        "raw_headers",
        "root_path",
        "route",
        "scheme",
        "server",
    )

    def __init__(
        self,
        app: App,
        method: str,
        path: str,
        query_string: str,
        raw_headers: list[tuple[str, str]],
        *,
        client: tuple[str, int] | str | None = None,
        server: str = "",
        scheme: str = "http",
        http_version: str = "1.1",
        source: BodySource | None = None,
    ) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.query_string = query_string
        self.raw_headers = raw_headers
        # PERF: the pairs as a dict (one C call) when no name comes twice, the usual case:
        # what the headers' index would hold, for the Host check, the body's headers and
        # `request.headers` (bench_instructions "GET /json", "POST /orders").
        index = dict(raw_headers)
        self._header_dict = index if len(index) == len(raw_headers) else None
        self._client = client
        self.server = server
        self.scheme = scheme
        self.http_version = http_version
        self.path_params: dict[str, Any] = {}
        #: The route the request matched (set by routing; None before, or for a 404/405).
        self.route: CompiledRoute | None = None
        #: The part of the URL path before `path`: a mount's prefix, an app's root_path.
        self.root_path = ""
        self._body: bytes = b""  # plain bytes (orjson and the parsers take no subclass)
        self._body_view: RequestBody | None = None
        #: What authenticated the request (the claims of a verified JWT), else None.
        self.auth: Any = None
        self._source = source
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._limit: int | None = None  # the route's body limit, for stream()
        self._state: State | None = None
        #: after-send work (ambi._pipeline.AfterResponse, or a PendingExit pair), if any
        self._after: Any = None
        self._session: Session | None = None  # set by the session layer (ambi.sessions)
        self._response: Any = None  # the `response: Response` parameter's object, if any

    # Parsed on first use ------------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers, self._header_dict)
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self.query_string)
        return self._query

    @property
    def params(self) -> dict[str, Any]:
        """Cello's spelling of `path_params`."""
        return self.path_params

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = parse_cookies(self.headers.get("cookie", ""))
        return self._cookies

    @property
    def state(self) -> State:
        if self._state is None:
            # Starlette's lifespan state: what the lifespan yielded, copied per request.
            self._state = State(**self.app.lifespan_state)
        return self._state

    @property
    def session(self) -> Session:
        """The session (a mutable mapping), with `app.enable_sessions(...)`."""
        session = self._session
        if session is None:
            raise ConfigurationError(
                "request.session needs sessions: call app.enable_sessions(secret_key=...)"
            )
        return session

    @property
    def url(self) -> URL:
        host = self.headers.get("host") or self.server or "localhost"
        query = f"?{self.query_string}" if self.query_string else ""
        return URL(f"{self.scheme}://{host}{quote(self.root_path + self.path)}{query}")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def client(self) -> Address | None:
        """The client's `(host, port)`, with `.host` and `.port`; None when unknown."""
        client = self._client
        if client is None or type(client) is Address:
            return client
        # PERF: the adapter may hand the server's "host:port" as it is, parsed here on
        # first use (int() of the port and the split cost ~4% of GET /json in callgrind,
        # bench_instructions, for a value most requests never read).
        parsed = _parse_client(client) if type(client) is str else Address(*client)
        self._client = parsed
        return parsed

    @client.setter
    def client(self, value: tuple[str, int] | None) -> None:
        self._client = value

    @property
    def client_host(self) -> str | None:
        """`request.client.host` (None when unknown), without making the `Address`."""
        client = self._client
        if type(client) is str:
            host, sep, port = client.rpartition(":")
            return host.strip("[]") if sep and port.isdigit() else None
        return client[0] if client else None

    # Body ---------------------------------------------------------------------------------

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

    def finish(self) -> Awaitable[None] | None:
        """Called by the adapters once the response has been sent: release what the request
        holds, or, when after-send work is pending (background tasks, dependency cleanup),
        return the coroutine that runs it and then releases (the adapter awaits it).
        """
        # PERF: a plain call for the usual request with nothing to do after sending (a
        # coroutine here cost ~3% of GET /json in callgrind instruction counts), and for
        # after-send work that can be done at once (a def dependency's cleanup running
        # inline: bench_instructions "GET /deps-sync").
        after = self._after
        if after is not None:
            # A pair (pending exit, generator): a route's one def dependency with `yield`
            # (ambi._pipeline._after.PendingExit); else an AfterResponse.
            if type(after) is tuple:
                if not after[0].run_now(self, after[1]):
                    return self._finish_after()
            elif not after.run_now():
                return self._finish_after()
            self._after = None
        form = self._form
        if form is not None:
            if form.on_disk():
                return self._release()
            form.close()  # what `close()` does
        return None

    async def _finish_after(self) -> None:
        after, self._after = self._after, None
        try:
            await (after[0].run(after[1]) if type(after) is tuple else after.run())
        finally:
            form = self._form
            if form is not None and form.on_disk():
                await self._release()
            else:  # PERF: no coroutine to close nothing (bench_instructions "GET /deps")
                self.close()

    async def _release(self) -> None:
        """Close the uploaded files, in the thread pool when some are on disk."""
        form = self._form
        if form is None or not form.on_disk():
            self.close()
            return
        try:
            await self.app.engine.run_in_thread(form.close)
        except BaseException:
            form.close()  # cancelled meanwhile: closing twice is harmless
            raise

    def close(self) -> None:
        """Release what the request holds (uploaded files), now."""
        if self._form is not None:
            self._form.close()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


def _generator(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    return cast("AsyncGenerator[bytes, None]", chunks)  # what both adapters give


_UNSET: Any = object()
_NO_FORM = FormData()
