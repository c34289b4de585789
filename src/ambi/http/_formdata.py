"""`FormData`: the fields and files of a form body, as the form readers (`_multipart.py`)
give it."""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Iterator, Mapping
from typing import Any, Self

from ._awaitable import Ready
from ._upload import UploadFile


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
