"""`app.enable_gzip(minimum_size=500)`: compressed responses for clients that accept them.

Encodings: gzip always; Brotli (`br`) when the `brotli` package is installed and zstd when
`zstandard` is (`pip install 'ambi[compression]'`). The client's `Accept-Encoding`
q-values decide; among equals ambi prefers zstd, then br, then gzip.

Left as they are: bodies under `minimum_size` bytes, responses that already have a
`Content-Encoding`, `text/event-stream`, `Cache-Control: no-transform`, formats that are
compressed already (images other than SVG, audio, video, archives, woff fonts), files
(`FileResponse` keeps the server's zero-copy path; pre-compress static assets), and
1xx / 204 / 304 responses.

Streaming responses are compressed chunk by chunk, each chunk flushed so it reaches the
client at once; only the size check buffers, up to `minimum_size` bytes: a stream that
ends below it is sent as it is. Compressed responses get `Vary: Accept-Encoding` and a
strong ETag becomes weak (the bytes differ from the uncompressed ones). Bodies of 64 KiB
or more are compressed in the thread pool, off the loop.
"""

from __future__ import annotations

import contextlib
import importlib.util
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import ConfigurationError
from ..http import FileResponse, Request, Response, StreamingResponse
from ..servers._types import ClientDisconnected
from ._builtin import Builtin, check_names
from ._chain import Next
from ._headers import add_vary

if TYPE_CHECKING:
    from ..app import App

OFF_LOOP = 64 * 1024
_SKIPPED_TYPES = (
    "text/event-stream",
    "audio/",
    "video/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/zstd",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/x-bzip2",
    "application/x-xz",
)


class StreamEncoder(Protocol):
    def chunk(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    __slots__ = ("_z",)

    def __init__(self, level: int) -> None:
        self._z = zlib.compressobj(level, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._z.flush()


class Encoding:
    """One content coding: a one-shot compressor and a streaming one."""

    __slots__ = ("name", "one_shot", "stream")

    def __init__(
        self, name: str, one_shot: Callable[[bytes], bytes], stream: Callable[[], StreamEncoder]
    ) -> None:
        self.name = name
        self.one_shot = one_shot
        self.stream = stream


def _gzip(level: int) -> Encoding:
    def one_shot(data: bytes) -> bytes:
        z = zlib.compressobj(level, zlib.DEFLATED, 31)
        return z.compress(data) + z.flush()

    return Encoding("gzip", one_shot, lambda: _Gzip(level))


def _brotli() -> Encoding:
    import brotli  # type: ignore[import-untyped]

    quality = 4  # dynamic content: fast, still smaller than gzip -6

    class Stream:
        __slots__ = ("_c",)

        def __init__(self) -> None:
            self._c = brotli.Compressor(quality=quality)

        def chunk(self, data: bytes) -> bytes:
            return bytes(self._c.process(data)) + bytes(self._c.flush())

        def finish(self) -> bytes:
            return bytes(self._c.finish())

    return Encoding("br", lambda data: bytes(brotli.compress(data, quality=quality)), Stream)


def _zstd() -> Encoding:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3)

    class Stream:
        __slots__ = ("_c",)

        def __init__(self) -> None:
            self._c = zstandard.ZstdCompressor(level=3).compressobj()

        def chunk(self, data: bytes) -> bytes:
            return self._c.compress(data) + self._c.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

        def finish(self) -> bytes:
            return self._c.flush()

    return Encoding("zstd", compressor.compress, Stream)


#: Which package each optional encoding needs; in ambi's order of preference.
OPTIONAL = {"zstd": "zstandard", "br": "brotli"}
PREFERENCE = ("zstd", "br", "gzip")


def available_encodings() -> tuple[str, ...]:
    return tuple(
        name
        for name in PREFERENCE
        if name == "gzip" or importlib.util.find_spec(OPTIONAL[name]) is not None
    )


def parse_accept_encoding(header: str) -> dict[str, float]:
    """`gzip, br;q=0.8, *;q=0` -> {"gzip": 1.0, "br": 0.8, "*": 0.0} (bad q-values: 0)."""
    accepted: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        accepted[name] = q
    return accepted


class Compression(Builtin):
    def __init__(
        self,
        minimum_size: int = 500,
        *,
        compresslevel: int = 6,
        encodings: Sequence[str] | None = None,
    ) -> None:
        if isinstance(minimum_size, bool) or not isinstance(minimum_size, int) or minimum_size < 0:
            raise ConfigurationError(
                f"enable_gzip: minimum_size must be bytes >= 0: {minimum_size!r}"
            )
        if isinstance(compresslevel, bool) or compresslevel not in range(1, 10):
            raise ConfigurationError(f"enable_gzip: compresslevel must be 1..9: {compresslevel!r}")
        installed = available_encodings()
        if encodings is None:
            names = installed
        else:
            names = tuple(n.lower() for n in check_names(encodings, "enable_gzip(encodings=...)"))
            for name in names:
                if name not in PREFERENCE:
                    raise ConfigurationError(
                        f"enable_gzip: unknown encoding {name!r}; use {PREFERENCE}"
                    )
                if name not in installed:
                    raise ConfigurationError(
                        f"enable_gzip: encoding {name!r} needs the {OPTIONAL[name]!r} package"
                    )
        makers = {"gzip": lambda: _gzip(compresslevel), "br": _brotli, "zstd": _zstd}
        self.encodings = [makers[name]() for name in PREFERENCE if name in names]
        self.minimum_size = minimum_size
        self._chosen: dict[str, Encoding | None] = {}

    def choose(self, accept: str) -> Encoding | None:
        """The encoding to use for this `Accept-Encoding` (None: send it as it is)."""
        chosen = self._chosen.get(accept, False)
        if chosen is not False:
            return chosen  # type: ignore[return-value]
        accepted = parse_accept_encoding(accept)
        wildcard = accepted.get("*", 0.0)
        best: Encoding | None = None
        best_q = 0.0
        for encoding in self.encodings:
            q = accepted.get(encoding.name, wildcard)
            if q > best_q:
                best, best_q = encoding, q
        if len(self._chosen) < 256:  # PERF: clients send a handful of distinct headers
            self._chosen[accept] = best
        return best

    def layer(self, app: App, call_next: Next) -> Next:
        minimum = self.minimum_size
        choose = self.choose
        engine = app.engine
        error_response = app._error_response

        async def stream(request: Request, response: Any, encoding: Encoding) -> Response:
            try:  # the size check runs the stream's first steps: they may fail
                return await _compress_stream(response, encoding, minimum, engine)
            except ClientDisconnected:
                raise
            except Exception as exc:
                return await error_response(request, exc)

        async def compress(request: Request) -> Response:
            response = await call_next(request)
            if not _compressible(response):
                return response
            streamed = isinstance(response, StreamingResponse)
            if not streamed and len(response.body) < minimum:
                return response
            add_vary(response.headers, "Accept-Encoding")
            accept = request.headers.get("accept-encoding")
            encoding = choose(accept) if accept else None
            if encoding is None or (streamed and request.method == "HEAD"):
                return response
            if streamed:
                return await stream(request, response, encoding)
            body = response.body
            if len(body) >= OFF_LOOP:
                data = await engine.run_in_thread(encoding.one_shot, body)
            else:
                data = encoding.one_shot(body)
            response.body = data
            _mark(response, encoding)
            return response

        return compress


def _compressible(response: Response) -> bool:
    status = response.status_code
    if status < 200 or status in (204, 304) or isinstance(response, FileResponse):
        return False
    headers = response.headers
    if "content-encoding" in headers:
        return False
    if "no-transform" in headers.get("cache-control", ""):
        return False
    media = headers.get("content-type", "").lower()
    if media.startswith("image/"):
        return media.startswith("image/svg")
    return not media.startswith(_SKIPPED_TYPES)


def _mark(response: Response, encoding: Encoding) -> None:
    headers = response.headers
    headers["content-encoding"] = encoding.name
    if "content-length" in headers:
        del headers["content-length"]
    etag = headers.get("etag")
    if etag is not None and not etag.startswith("W/"):
        headers["etag"] = f"W/{etag}"


async def _compress_stream(
    response: StreamingResponse, encoding: Encoding, minimum: int, engine: Any
) -> Response:
    """Buffer up to `minimum` bytes (the size check), then compress the rest as it comes."""
    chunks: AsyncIterator[bytes] = aiter(response.body_chunks(engine))
    buffered: list[bytes] = []
    size = 0
    ended = False
    try:
        while size < minimum:
            chunk = await anext(chunks, None)
            if chunk is None:
                ended = True
                break
            buffered.append(chunk)
            size += len(chunk)
    except BaseException:
        await _close(chunks)
        raise
    if ended and size < minimum:
        plain = Response(b"".join(buffered), response.status_code)
        plain.headers = response.headers
        return plain

    async def compressed() -> AsyncIterator[bytes]:
        stream = encoding.stream()
        try:
            if buffered:
                yield stream.chunk(b"".join(buffered))
            async for piece in chunks:
                if piece:
                    yield stream.chunk(piece)
            yield stream.finish()
        finally:
            await _close(chunks)

    result = StreamingResponse(compressed(), response.status_code)
    result.headers = response.headers
    _mark(result, encoding)
    return result


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
