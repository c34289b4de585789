"""The request object handed to handlers, built by the server adapters."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from ..exceptions import ConfigurationError
from ._awaitable import RequestBody
from ._formdata import FormData
from ._headers import Headers, QueryParams, parse_cookies
from ._request_body import _UNSET, BodyReading, BodySource

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..app import App
    from ..sessions import Session


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


class Request(BodyReading):
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

    __slots__ = (  # and the body's own (BodyReading)
        "_after",
        "_client",
        "_cookies",
        "_header_dict",
        "_headers",
        "_query",
        "_response",
        "_session",
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
