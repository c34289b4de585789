"""Form bodies: urlencoded and multipart, parsed as they arrive.

The parser is python-multipart's `MultipartParser` (streaming, callbacks over slices of the
chunks it is fed). streaming-form-data (Cython) was measured against it on a 100 MB part:
no faster (both ~1.6-3 GB/s for the parse itself), and it needs every field registered by
name in advance, so python-multipart stays (benchmarks/RESULTS.md, "Uploads").

`read_form` reads a request body chunk by chunk from the server: text fields are kept in
memory (all of them together within `FormLimits.fields`), file parts go to `UploadFile`
spools (`_spool.py`), written to their temporary files in the thread pool in 1 MiB
batches, one batch in flight while the next chunks are read. Every limit is checked as the
bytes arrive, so a body over one is refused (413) without reading the rest. `parse_form`
parses a body already in memory (`request.form()` on a route that read the body whole);
`read_whole_form` reads a form body announced no longer than `FormLimits.whole` (at most
`WHOLE_READ`, and within every byte limit of the route, so reading it whole crosses none)
with one call, then parses it the same way. The value is a `FormData` (`_formdata.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from ..exceptions import HTTPException
from ._formdata import FormData
from ._multipart_simple import split
from ._spool import Spool
from ._upload import SPOOL_MAX_SIZE, UploadFile

logger = logging.getLogger("ambi.http")

if TYPE_CHECKING:
    from ..execution import Engine

#: Most parts one multipart body may have (files and fields together).
MAX_PARTS = 1000
#: Most bytes of headers one part may have.
MAX_PART_HEADERS = 16 * 1024
#: A form body announced at most this long, and within every byte limit of its route (so
#: that no limit can be crossed by reading it whole, and no file part would be spooled),
#: is read with one call and parsed with one parser write.
#: PERF: a 100 KB upload came from Granian in 4 chunks, each a hand-off to the loop and a
#: parser write with its callbacks: 87 -> 56 us of the loop's CPU per upload in-process,
#: 300-350 -> 200-250 us of server CPU (benchmarks/bench_uploads.py; RESULTS.md, "uploads:
#: where a 100 KB upload's server CPU went"). The RSGI adapter reads up to the same size
#: with one call (`_ONE_CALL`).
WHOLE_READ = 256 * 1024


@dataclass(frozen=True, slots=True)
class FormLimits:
    """The limits one route reads forms with (compiled once per route)."""

    body: int  # the whole body
    fields: int  # the text fields together (what is held in memory)
    files: Mapping[str, int] = field(default_factory=dict)  # per file field: one file's most
    in_memory: frozenset[str] = frozenset()  # file fields never spooled (read whole anyway)
    parts: int = MAX_PARTS
    part_headers: int = MAX_PART_HEADERS
    spool: int = SPOOL_MAX_SIZE  # an upload past this goes to a temporary file
    directory: str | None = None  # where temporary files go (None: the system's)
    #: a body of at most this many bytes is read whole, then parsed (see `WHOLE_READ`)
    whole: int = field(init=False)

    def __post_init__(self) -> None:
        limits = (self.spool, self.fields, self.body, *self.files.values())
        object.__setattr__(self, "whole", min(WHOLE_READ, *limits))


#: The errors of a file system with no room left for an upload's temporary file.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def no_room(exc: OSError) -> HTTPException:
    """The 507 for an upload the server has no room to spool (a full disk, a quota): the
    client's request was fine, and may succeed later; the operator is told in the log."""
    logger.error("an upload could not be stored (%s): answered 507", exc)
    return HTTPException(
        507, "the server has no room to store this upload", headers={"connection": "close"}
    )


def too_large(what: str, limit: int) -> HTTPException:
    """The 413 for a body over a limit; the connection is closed after it (the rest of the
    body is not read)."""
    return HTTPException(413, f"{what} larger than {limit} bytes", headers={"connection": "close"})


class _Parts:
    """python-multipart's callbacks: text fields in memory, files into spools."""

    def __init__(self, limits: FormLimits, spooled: bool) -> None:
        self.limits = limits
        self.spooled = spooled  # files may roll over to temporary files
        self.items: list[tuple[str, str | UploadFile]] = []
        self.spools: list[tuple[UploadFile, Spool]] = []
        self.due: list[Spool] = []  # spools with bytes to write now
        self.count = 0
        self.field_bytes = 0
        self._header_bytes = 0
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._name = ""
        self._file: tuple[UploadFile, Spool] | None = None  # the file part being read
        self._max_file = 0
        self._data = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _part_begin(self) -> None:
        self.count += 1
        if self.count > self.limits.parts:
            raise HTTPException(
                413, f"more than {self.limits.parts} parts in the form", {"connection": "close"}
            )
        self._headers = {}
        self._header_bytes = 0
        self._file = None
        self._data = bytearray()

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.part_headers:
            raise too_large("multipart part headers", self.limits.part_headers)

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in options:
            raise HTTPException(400, "multipart part without a form-data name")
        self._name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            upload = UploadFile(
                filename=options[b"filename"].decode("utf-8", "replace"),
                content_type=self._headers.get("content-type", "application/octet-stream"),
                headers=self._headers,
            )
            limits = self.limits
            spooled = self.spooled and self._name not in limits.in_memory
            spool = Spool(limits.spool if spooled else limits.body, limits.directory)
            self._max_file = limits.files.get(self._name, limits.body)
            self._file = (upload, spool)
            self.spools.append(self._file)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._file is None:
            self.field_bytes += size
            if self.field_bytes > self.limits.fields:
                raise too_large("form fields", self.limits.fields)
            self._data += data[start:end]
            return
        upload, spool = self._file
        upload.size += size
        if upload.size > self._max_file:
            raise too_large(f"file {self._name!r}", self._max_file)
        # PERF: the server's chunk itself when the part covers it (no copy).
        spool.append(data if start == 0 and end == len(data) else data[start:end])
        if spool.due(upload.size) and spool not in self.due:
            self.due.append(spool)

    def _part_end(self) -> None:
        if self._file is None:
            try:
                self.items.append((self._name, self._data.decode("utf-8")))
            except UnicodeDecodeError as exc:
                raise HTTPException(400, f"form field {self._name!r} is not UTF-8") from exc
            return
        upload, spool = self._file
        if not spool.rolled:
            upload.file = spool.in_memory()
        elif spool.pending and spool not in self.due:
            self.due.append(spool)
        self.items.append((self._name, upload))

    def take_due(self) -> list[tuple[Spool, list[bytes]]]:
        due, self.due = self.due, []
        return [(spool, spool.take()) for spool in due]

    def discard(self) -> None:
        for _, spool in self.spools:
            spool.discard()
        for upload, _ in self.spools:
            upload.file.close()


def _write_batches(
    batches: list[tuple[Spool, list[bytes]]], finished: Sequence[tuple[UploadFile, Spool]] = ()
) -> None:
    """In the pool: write the batches; then hand every rolled-over upload of `finished`
    its file, rewound (the body's last batches and the files' hand-over: one trip)."""
    for spool, chunks in batches:
        spool.write(chunks)
    for upload, spool in finished:
        if spool.rolled and spool.file is not None:
            upload.file = spool.finish()


def _form_type(content_type: str) -> tuple[bytes, bytes]:
    """`(media type, multipart boundary)` of a form body's Content-Type; 415 for another
    type, 400 for multipart without a boundary."""
    media, options = parse_options_header(content_type)
    if media == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPException(400, "multipart body without a boundary")
        return media, boundary
    if media == b"application/x-www-form-urlencoded":
        return media, b""
    raise HTTPException(
        415,
        "expected a form body (application/x-www-form-urlencoded or multipart/form-data)",
    )


def _urlencoded(body: bytes) -> FormData:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "form body is not UTF-8") from exc
    return FormData(list(parse_qsl(text, keep_blank_values=True)))


def _check_end(parser: MultipartParser) -> None:
    parser.finalize()
    if parser.state != MultipartState.END:
        raise HTTPException(400, "malformed multipart body: it ends before its last boundary")


def parse_form(content_type: str, body: bytes, limits: FormLimits) -> FormData:
    """Parse a form body held in memory (files stay in memory too); 415 for another content
    type, 400 for a malformed body, 413 over a limit."""
    return _parse(*_form_type(content_type), body, limits)


async def read_whole_form(
    content_type: str, read: Callable[[], Awaitable[bytes]], limits: FormLimits
) -> FormData:
    """`parse_form` of the body `read()` gives (a body announced within `limits.whole`);
    the content type is checked before any of it is read."""
    media, boundary = _form_type(content_type)
    return _parse(media, boundary, await read(), limits)


def _parse(media: bytes, boundary: bytes, body: bytes, limits: FormLimits) -> FormData:
    if media == b"application/x-www-form-urlencoded":
        if len(body) > limits.fields:
            raise too_large("form fields", limits.fields)
        return _urlencoded(body)
    parts = _Parts(limits, spooled=False)
    try:
        if not split(boundary, body, parts):  # PERF: the common shape, see its module
            parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
            parser.write(body)
            _check_end(parser)
    except HTTPException:
        parts.discard()
        raise
    except Exception as exc:
        parts.discard()
        raise HTTPException(400, f"malformed multipart body: {exc}") from exc
    return FormData(parts.items)


class _Writer:
    """Writes spool batches in the thread pool, one batch in flight while the loop reads
    on (so a file's bytes stay in order)."""

    __slots__ = ("engine", "pending")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: asyncio.Future[None] | None = None

    async def submit(
        self,
        batches: list[tuple[Spool, list[bytes]]],
        finished: list[tuple[UploadFile, Spool]] | None = None,
    ) -> None:
        """Once the batch in flight is written, send `batches` (and the hand-over of the
        `finished` files: the last submit) to the pool."""
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending
        if batches or finished:
            self.pending = self.engine.run_in_thread(_write_batches, batches, finished or ())

    async def settle(self) -> None:
        """After an error: let the batch in flight finish before its file is closed."""
        pending, self.pending = self.pending, None
        if pending is not None:
            with contextlib.suppress(BaseException):  # the error that got us here wins
                await asyncio.shield(pending)


def _feed(parser: MultipartParser, chunk: bytes) -> None:
    try:
        parser.write(chunk)
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(400, f"malformed multipart body: {exc}") from exc


async def _discard(parts: _Parts, engine: Engine) -> None:
    if not any(spool.file is not None for _, spool in parts.spools):
        parts.discard()  # nothing on disk: closing is free
        return
    try:
        await engine.run_in_thread(parts.discard)
    except BaseException:
        parts.discard()  # cancelled meanwhile: closing twice is harmless
        raise


async def read_form(
    content_type: str, chunks: AsyncIterator[bytes], limits: FormLimits, engine: Engine
) -> FormData:
    """Read and parse a form body as it arrives from `chunks` (see the module docstring)."""
    media, boundary = _form_type(content_type)
    if media == b"application/x-www-form-urlencoded":
        received: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limits.fields:
                raise too_large("form fields", limits.fields)
            received.append(chunk)
        return _urlencoded(b"".join(received))
    parts = _Parts(limits, spooled=True)
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    writer = _Writer(engine)
    try:
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limits.body:
                raise too_large("request body", limits.body)
            _feed(parser, chunk)
            if parts.due:
                await writer.submit(parts.take_due())
        _check_end(parser)
        rolled = any(spool.rolled for _, spool in parts.spools)
        await writer.submit(parts.take_due(), parts.spools if rolled else None)
        await writer.submit([])
    except BaseException as exc:
        await writer.settle()
        await _discard(parts, engine)
        if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
            raise no_room(exc) from exc
        raise
    return FormData(parts.items)
