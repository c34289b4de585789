"""Responses: what to send (status, headers, and a body in memory, an iterator or a file).

How a response goes onto the wire is the servers' business: `ambi.servers._send_asgi` and
`ambi.servers._send_rsgi`."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import hashlib
import mimetypes
import os
import stat
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
import pydantic_core
from pydantic import BaseModel

from ._headers import MutableHeaders, format_set_cookie
from ._streams import ItemSource

if TYPE_CHECKING:
    from ..execution import Engine


def _json_default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, decimal.Decimal):
        return float(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, enum.Enum):
        return obj.value
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_PLAIN_JSON = frozenset({dict, list})


def dump_json(content: Any) -> bytes:
    """JSON bytes for `content` (dicts, lists, dataclasses, pydantic models, dates...)."""
    # PERF: a dict or list (what most handlers return) skips the `isinstance` against
    # BaseModel, an ABC check through its metaclass (bench_instructions "POST /orders",
    # "GET /items/{item_id}").
    if type(content) not in _PLAIN_JSON and isinstance(content, BaseModel):
        return content.__pydantic_serializer__.to_json(content)
    try:
        return orjson.dumps(content, default=_json_default, option=_JSON_OPTIONS)
    except TypeError as exc:
        if "64-bit" not in str(exc):
            raise
        # orjson refuses integers beyond 64 bits, which JSON and pydantic allow.
        return pydantic_core.to_json(content, fallback=_json_default)


def _content_type(media_type: str, charset: str) -> str:
    if media_type.startswith("text/") and "charset=" not in media_type:
        return f"{media_type}; charset={charset}"
    return media_type


class Response:
    """A response with a body held in memory.

    `Response(content, status_code=200, headers=None, media_type=None)`; `content` may be
    bytes or str. `Response.json(data, status=201)` builds a `JSONResponse` (Cello's spelling).
    """

    media_type: str | None = None
    charset = "utf-8"
    #: True when `prepare()` must run (in the app's error handling) before sending.
    deferred = False
    #: The whole body is `body` (False for streams, files and other answers produced while
    #: they are sent): what a cache may store.
    in_memory = True

    def __init__(
        self,
        content: Any = b"",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.body = self.render(content)
        media_type = self.media_type
        if headers:
            self.headers = MutableHeaders([(k.lower(), v) for k, v in headers.items()])
            if media_type is not None and "content-type" not in self.headers:
                self.headers.add("content-type", _content_type(media_type, self.charset))
        else:
            # PERF: no headers given: the content type is the only one, added without a
            # lookup (bench_instructions "GET /json").
            self.headers = MutableHeaders(
                []
                if media_type is None
                else [("content-type", _content_type(media_type, self.charset))]
            )

    async def prepare(self, engine: Engine) -> None:
        """Do the fallible work of a deferred response before anything is sent."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} takes bytes or str content, not {type(content).__name__}"
        )

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse(data, status_code=status, headers=headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: int | str | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        self.headers.add(
            "set-cookie",
            format_set_cookie(
                key,
                value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
            ),
        )

    def delete_cookie(self, key: str, *, path: str = "/", domain: str | None = None) -> None:
        self.set_cookie(key, "", max_age=0, expires=0, path=path, domain=domain)

    def header_list(self) -> list[tuple[str, str]]:
        """The headers to send, Content-Length included where the body is known."""
        items = self.headers.items_list
        if self.status_code < 200 or self.status_code in (204, 304):
            return items
        return [*items, ("content-length", str(len(self.body)))]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        content: Any = b"",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        if headers or media_type is not None or type(self) is not JSONResponse:
            super().__init__(content, status_code, headers, media_type)
            return
        # PERF: the usual JSON answer (no headers, the class's own rendering) made in this
        # one frame: its one header is a constant (bench_instructions "GET /json").
        self.status_code = status_code
        self.body = dump_json(content)
        self.headers = MutableHeaders([_JSON_CONTENT_TYPE])

    def render(self, content: Any) -> bytes:
        return dump_json(content)


_JSON_CONTENT_TYPE = ("content-type", JSONResponse.media_type)


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


class RedirectResponse(Response):
    def __init__(
        self, url: str, status_code: int = 307, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(b"", status_code, headers)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


def _encode_chunk(chunk: Any, charset: str) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode(charset)
    return bytes(chunk)


class StreamingResponse(Response):
    """A body produced piece by piece. Sync iterables are iterated in the thread pool (so a
    blocking generator never stalls the loop); async iterables on the loop. When the client
    leaves, the stream stops and the generator is closed (its `finally` runs; see
    `ambi.http._streams`)."""

    def __init__(
        self,
        content: Iterable[Any] | AsyncIterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.content = content
        super().__init__(b"", status_code, headers, media_type)

    in_memory = False

    def header_list(self) -> list[tuple[str, str]]:
        return self.headers.items_list

    async def body_chunks(self, engine: Engine) -> AsyncGenerator[bytes, None]:
        """The body, chunk by chunk; closing this generator closes the content's."""
        source = ItemSource(self.content, engine)
        charset = self.charset
        try:
            while True:
                try:
                    item = await source.next()
                except StopAsyncIteration:
                    return
                yield _encode_chunk(item, charset)
        finally:
            await source.close()


class FileResponse(Response):
    """A file from disk (RSGI servers read it themselves; over ASGI it is read in chunks of
    `chunk_size` in the thread pool)."""

    chunk_size = 64 * 1024
    deferred = True
    in_memory = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.filename = filename
        if media_type is None:
            media_type = (
                mimetypes.guess_type(filename or self.path)[0] or "application/octet-stream"
            )
        super().__init__(b"", status_code, headers, media_type)
        if filename is not None:
            self.headers.setdefault(
                "content-disposition", f"attachment; filename*=utf-8''{quote(filename)}"
            )
        self._stat: os.stat_result | None = None

    def _stat_file(self) -> os.stat_result:
        if self._stat is None:
            result = os.stat(self.path)
            if not stat.S_ISREG(result.st_mode):
                raise FileNotFoundError(f"{self.path} is not a regular file")
            self._stat = result
        return self._stat

    async def prepare(self, engine: Engine) -> None:
        """Stat the file (in the pool): a missing file fails here, before sending."""
        await engine.run_in_thread(self._stat_file)

    def header_list(self) -> list[tuple[str, str]]:
        """The headers, with the file's length, date and ETag (stats the file: blocking)."""
        info = self._stat_file()
        tag = hashlib.md5(
            f"{info.st_mtime}-{info.st_size}".encode(), usedforsecurity=False
        ).hexdigest()
        extra = [
            ("content-length", str(info.st_size)),
            ("last-modified", formatdate(info.st_mtime, usegmt=True)),
            ("etag", f'"{tag}"'),
        ]
        present = {k for k, _ in self.headers.items_list}
        return [*self.headers.items_list, *(kv for kv in extra if kv[0] not in present)]


def is_dataclass_instance(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)
