"""Form bodies: urlencoded and multipart, parsed as they arrive.

The parser is python-multipart's `MultipartParser` (streaming, callbacks over slices of the
chunks it is fed). streaming-form-data (Cython) was measured against it on a 100 MB part:
no faster (both ~1.6-3 GB/s for the parse itself), and it needs every field registered by
name in advance, so python-multipart stays (benchmarks/RESULTS.md, "Uploads").

`read_form` reads a request body chunk by chunk from the server: text fields are kept in
memory (all of them together within `FormLimits.fields`), file parts go to `UploadFile`
spools, written to their temporary files in the thread pool in 1 MiB batches, one batch in
flight while the next chunks are read. Every limit is checked as the bytes arrive, so a
body over one is refused (413) without reading the rest. `parse_form` parses a body already
in memory: `request.form()` on a route that read the body whole, and a form body announced
no longer than `FormLimits.whole` (at most `WHOLE_READ`, and within every byte limit of the
route, so reading it whole crosses none), which `Request.read_form` reads with one call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from ..exceptions import HTTPException
from ._awaitable import Ready
from ._upload import SPOOL_MAX_SIZE, Spool, UploadFile

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
#: parser write with its callbacks (benchmarks/bench_uploads.py; RESULTS.md, uploads
#: 2026-11-30). The RSGI adapter reads up to the same size with one call (`_ONE_CALL`).
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


class FormData(Mapping[str, "str | UploadFile"]):
    """Form fields and files; `form["k"]` is the last value, `getlist("k")` every one.

    Also awaitable (giving itself) and an async context manager, so that Starlette's
    `await request.form()` and `async with request.form() as form:` work on the value
    `request.form()` returns, and `await form.close()` too. (The request closes its form's
    files after the response in any case, in the thread pool when some are on disk: the
    `async with` block leaves that to it.)
    """

    __slots__ = ("_dict", "_items")

    def __init__(self, items: list[tuple[str, str | UploadFile]] | None = None) -> None:
        self._items = items or []
        self._dict = dict(self._items)

    def __getitem__(self, key: str) -> str | UploadFile:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[str | UploadFile]:
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str | UploadFile]]:
        return list(self._items)

    def uploads(self) -> list[UploadFile]:
        return [v for _, v in self._items if isinstance(v, UploadFile)]

    def on_disk(self) -> bool:
        """Whether an upload is in a temporary file (closing it is then file I/O)."""
        return any(not upload.in_memory for upload in self.uploads())

    def close(self) -> Awaitable[None]:
        """Close every uploaded file (plain calls: from the loop only when all are in
        memory; see `Request.finish`). The result may be awaited (Starlette's spelling)."""
        for upload in self.uploads():
            upload.file.close()
        return Ready(None)

    def __await__(self) -> Generator[Any, None, Self]:
        return self
        yield

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


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


def _write_batches(batches: list[tuple[Spool, list[bytes]]]) -> None:
    for spool, chunks in batches:
        spool.write(chunks)


def _finish_files(spools: list[tuple[UploadFile, Spool]]) -> None:
    """In the pool: rewind every rolled-over upload and hand its file over."""
    for upload, spool in spools:
        if spool.rolled and spool.file is not None:
            spool.file.flush()
            spool.file.seek(0)
            upload.file = spool.file


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
    media, boundary = _form_type(content_type)
    if media == b"application/x-www-form-urlencoded":
        if len(body) > limits.fields:
            raise too_large("form fields", limits.fields)
        return _urlencoded(body)
    parts = _Parts(limits, spooled=False)
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    try:
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

    async def submit(self, batches: list[tuple[Spool, list[bytes]]]) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending
        if batches:
            self.pending = self.engine.run_in_thread(_write_batches, batches)

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
        if writer.pending is not None or parts.due:
            await writer.submit(parts.take_due())
            await writer.submit([])
        if any(spool.rolled for _, spool in parts.spools):
            await engine.run_in_thread(_finish_files, parts.spools)
    except BaseException:
        await writer.settle()
        await _discard(parts, engine)
        raise
    return FormData(parts.items)
