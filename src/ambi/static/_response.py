"""The answer `StaticFiles` sends: a whole file, one byte range of it, or several ranges as
`multipart/byteranges`.

On RSGI the server reads the file itself (`response_file`, `response_file_range`): no
Python read loop. On ASGI, and for multiple ranges, the file is read in chunks in the app's
thread pool, never on the event loop (`chunks()`; the sending is in `ambi.servers`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from ..http import FileResponse

if TYPE_CHECKING:
    from ..execution import Engine

CHUNK_SIZE = 64 * 1024


def _read_at(fd: int, offset: int, length: int) -> bytes:
    data = os.pread(fd, length, offset)
    if len(data) < length:
        raise OSError(f"file shrank while being sent ({len(data)} of {length} bytes read)")
    return data


class _Part:
    """One range of a multipart answer: its head (boundary and part headers) and bytes."""

    __slots__ = ("end", "head", "start")

    def __init__(self, head: bytes, start: int, end: int) -> None:
        self.head = head
        self.start = start
        self.end = end


class StaticFileResponse(FileResponse):
    """A file whose metadata `StaticFiles` already read: `ranges` empty for the whole file
    (`status_code`, 200 by default), one `(start, end)` pair (end exclusive) for a 206,
    several for a 206 in `multipart/byteranges`. `headers` carries ETag and the rest;
    Content-Length and Content-Range are set here."""

    deferred = False  # nothing left to check before sending: the file was stat'ed

    def __init__(
        self,
        path: str,
        size: int,
        headers: dict[str, str],
        media_type: str,
        *,
        ranges: Sequence[tuple[int, int]] = (),
        status_code: int = 200,
    ) -> None:
        self.ranges = list(ranges)
        self.size = size
        self.parts: list[_Part] = []
        self._tail = b""
        if len(self.ranges) > 1:
            headers = self._multipart(headers, media_type)
            media_type = headers["content-type"]
        elif self.ranges:
            start, end = self.ranges[0]
            headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
            headers["content-length"] = str(end - start)
        else:
            headers["content-length"] = str(size)
        super().__init__(path, 206 if self.ranges else status_code, headers, media_type)

    def _multipart(self, headers: dict[str, str], media_type: str) -> dict[str, str]:
        boundary = secrets.token_hex(16)
        content_type = media_type
        if content_type.startswith("text/") and "charset=" not in content_type:
            content_type += f"; charset={self.charset}"
        length = 0
        for start, end in self.ranges:
            head = (
                f"--{boundary}\r\ncontent-type: {content_type}\r\n"
                f"content-range: bytes {start}-{end - 1}/{self.size}\r\n\r\n"
            ).encode("latin-1")
            self.parts.append(_Part(head, start, end))
            length += len(head) + (end - start) + 2  # the part, then CRLF
        self._tail = f"--{boundary}--\r\n".encode("latin-1")
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(length + len(self._tail))
        return headers

    def header_list(self) -> list[tuple[str, str]]:
        return self.headers.items_list

    async def prepare(self, engine: Engine) -> None:
        """Nothing to do: `StaticFiles` read the file's metadata when it chose it."""

    async def chunks(self, engine: Engine) -> AsyncIterator[bytes]:
        """The body, read in the thread pool in chunks of at most `CHUNK_SIZE` bytes."""
        fd: int = await engine.run_in_thread(os.open, self.path, os.O_RDONLY)
        try:
            if not self.parts:
                start, end = self.ranges[0] if self.ranges else (0, self.size)
                async for chunk in self._span(engine, fd, start, end):
                    yield chunk
                return
            for part in self.parts:
                yield part.head
                async for chunk in self._span(engine, fd, part.start, part.end):
                    yield chunk
                yield b"\r\n"
            yield self._tail
        finally:
            await engine.run_in_thread(os.close, fd)

    @staticmethod
    async def _span(engine: Engine, fd: int, start: int, end: int) -> AsyncIterator[bytes]:
        offset = start
        while offset < end:
            length = min(CHUNK_SIZE, end - offset)
            yield await engine.run_in_thread(_read_at, fd, offset, length)
            offset += length
