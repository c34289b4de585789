"""`UploadFile`: one uploaded file, spooled in memory and past a threshold to a temporary
file; and `safe_filename`, which turns a client's file name into one safe to save under.

While a multipart body arrives (`_multipart.py`), a file part's bytes are collected by its
`Spool` (`_spool.py`): in memory up to the threshold, then in a temporary file written in
the thread pool.

The methods that touch the file (`read`, `seek`, `write`, `close`, `save_to`) are
`smartasync`: from a `def` handler they run and return; from async code they return an
awaitable that runs them in the thread pool, so `await file.read()` never blocks the loop.
`aread` is always the awaitable form.
"""

from __future__ import annotations

import io
import os
import shutil
import unicodedata
from collections.abc import Mapping
from typing import IO

from ..bridge import smartasync

#: Files larger than this are spooled to disk instead of memory (`App(upload_spool_size=)`).
SPOOL_MAX_SIZE = 1024 * 1024
#: Chunk size of `save_to(stream=True)`.
COPY_CHUNK = 1024 * 1024
_MAX_NAME_BYTES = 200  # well under the 255 bytes most file systems allow, for "-N" suffixes
_FORBIDDEN = frozenset('/\\<>:"|?*')


class UploadFile:
    """An uploaded file: `filename`, `content_type`, `size`, `headers` and `file` (a binary
    file object: in memory, or a temporary file for uploads past the spool threshold).

    `read`, `seek`, `write`, `close` and `save_to` work from `def` handlers as plain calls
    and from `async def` handlers with `await` (then in the thread pool); `aread` is always
    awaited. The temporary file is removed when the request ends (after the response is
    sent, or when the client goes away), or on `close()`.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
        size: int = 0,
    ) -> None:
        self.file: IO[bytes] = file if file is not None else io.BytesIO()
        self.filename = filename
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.size = size

    @property
    def in_memory(self) -> bool:
        """Whether the content is held in memory (not in a temporary file)."""
        return isinstance(self.file, io.BytesIO)

    @smartasync
    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left by default) from the current position."""
        return self.file.read(size)

    async def aread(self, size: int = -1) -> bytes:
        """`read`, always awaited (in the thread pool unless the file is in memory)."""
        if self.in_memory:
            return self.file.read(size)
        result: bytes = await self.read.aio(size)
        return result

    @smartasync
    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.file.seek(offset, whence)

    @smartasync
    def write(self, data: bytes) -> int:
        written = self.file.write(data)
        self.size = max(self.size, self.file.tell())
        return written

    @smartasync
    def close(self) -> None:
        self.file.close()

    @smartasync
    def save_to(self, directory: str | os.PathLike[str], stream: bool = True) -> str:
        """Save the upload into `directory` (made if missing) and return the saved path.

        The name is the client's file name made safe (`safe_filename`); an existing file is
        never overwritten: `photo.png` becomes `photo-1.png`, `photo-2.png`... `stream=True`
        (the default) copies in 1 MiB chunks; `stream=False` reads the whole upload into
        memory and writes it at once.
        """
        os.makedirs(directory, exist_ok=True)
        handle, path = _create_exclusive(os.fspath(directory), safe_filename(self.filename))
        source = self.file
        position = source.tell()
        source.seek(0)
        try:
            with os.fdopen(handle, "wb") as target:
                if stream:
                    shutil.copyfileobj(source, target, COPY_CHUNK)
                else:
                    target.write(source.read())
        except BaseException:
            os.unlink(path)
            raise
        finally:
            source.seek(position)
        return path

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size}, "
            f"content_type={self.content_type!r})"
        )


def safe_filename(name: str | None, default: str = "upload") -> str:
    """A file name safe to create in a folder, from a client's file name.

    Keeps the last path component (either separator), drops control and other invisible
    characters and the characters file systems refuse (`<>:"|?*`), strips dots and spaces
    at both ends (so no `.`, `..` or hidden file), and shortens it to 200 UTF-8 bytes
    keeping the extension; `default` when nothing is left.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    kept = "".join(ch for ch in base if ch.isprintable() and ch not in _FORBIDDEN)
    kept = kept.strip(". ")
    if not kept:
        return default
    if len(kept.encode()) > _MAX_NAME_BYTES:
        stem, dot, extension = kept.rpartition(".")
        if not dot or len(extension) > 16:
            stem, extension = kept, ""
        suffix = f".{extension}" if extension else ""
        room = _MAX_NAME_BYTES - len(suffix.encode())
        stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(". ")
        kept = (stem + suffix) if stem else default
    return kept


def _create_exclusive(directory: str, name: str) -> tuple[int, str]:
    """Create `name` in `directory`, or `stem-N.ext` when taken; never an existing file."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, dot, extension = name, "", ""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for attempt in range(10_000):
        candidate = name if attempt == 0 else f"{stem}-{attempt}{dot}{extension}"
        path = os.path.join(directory, candidate)
        try:
            return os.open(path, flags, 0o644), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {name!r} in {directory}")
