"""Form bodies: urlencoded and multipart (streamed through python-multipart)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

from ..exceptions import HTTPException

#: Files larger than this are spooled to disk instead of memory.
SPOOL_MAX_SIZE = 1024 * 1024


class UploadFile:
    """An uploaded file: `filename`, `content_type`, `size`, `headers` and a file object.

    `read`/`seek`/`close` are plain methods, usable from sync handlers.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes],
        *,
        filename: str | None,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
        size: int = 0,
    ) -> None:
        self.file = file
        self.filename = filename
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.size = size

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def seek(self, offset: int) -> int:
        return self.file.seek(offset)

    def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size}, ...)"


class FormData(Mapping[str, "str | UploadFile"]):
    """Form fields and files; `form["k"]` is the last value, `getlist("k")` every one."""

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

    def close(self) -> None:
        for _, value in self._items:
            if isinstance(value, UploadFile):
                value.close()


class _PartCollector:
    """Callbacks for python-multipart: collects fields in memory and files in spools."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str | UploadFile]] = []
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self._name = ""
        self._file: UploadFile | None = None
        self._data: bytearray = bytearray()

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
        self._headers = {}
        self._file = None
        self._data = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in options:
            raise HTTPException(400, "multipart part without a form-data name")
        self._name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)  # noqa: SIM115
            self._file = UploadFile(
                spool,
                filename=options[b"filename"].decode("utf-8", "replace"),
                content_type=self._headers.get("content-type", "application/octet-stream"),
                headers=self._headers,
            )

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.file.write(data[start:end])
            self._file.size += end - start
        else:
            self._data += data[start:end]

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.file.seek(0)
            self.items.append((self._name, self._file))
        else:
            try:
                self.items.append((self._name, self._data.decode("utf-8")))
            except UnicodeDecodeError as exc:
                raise HTTPException(400, f"form field {self._name!r} is not UTF-8") from exc


def parse_form(content_type: str, body: bytes) -> FormData:
    """Parse a form body; 415 for another content type, 400 for a malformed one."""
    media, options = parse_options_header(content_type)
    if media == b"application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "form body is not UTF-8") from exc
        return FormData(list(parse_qsl(text, keep_blank_values=True)))
    if media == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPException(400, "multipart body without a boundary")
        collector = _PartCollector()
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        try:
            parser.write(body)
            parser.finalize()
        except HTTPException:
            FormData(collector.items).close()
            raise
        except Exception as exc:
            FormData(collector.items).close()
            raise HTTPException(400, f"malformed multipart body: {exc}") from exc
        return FormData(collector.items)
    raise HTTPException(
        415,
        "expected a form body (application/x-www-form-urlencoded or multipart/form-data)",
    )
