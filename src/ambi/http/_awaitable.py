"""Values that serve both request dialects: used as they are, or awaited.

Cello and Catzilla code reads `request.body` as bytes and calls `request.json()` /
`request.form()` for their values, in `def` and `async def` handlers alike; Starlette and
FastAPI code writes `await request.body()`, `await request.json()`, `await request.form()`.
ambi reads the body before the handler runs, so each of these values exists already, and
the same object answers both spellings:

- `request.body` is a `RequestBody`: bytes that can also be called, giving an awaitable
  of themselves (`await request.body()`).
- `request.json()` gives the decoded value as an awaitable subclass of its type
  (`AwaitableDict`, `AwaitableList`, `AwaitableStr`, `AwaitableInt`): a dict is a dict,
  and `await` gives the same object back. `true`, `false` and `null` cannot be
  subclassed (and orjson does not serialise float subclasses): for these and for
  fractional numbers `request.json()` gives the plain value, unless the calling line of an
  `async def` awaits the call (`await request.json()`), which ambi sees in the caller's
  code and answers with an awaitable of the value (see `awaited_by_caller`).
- `request.form()` gives the `FormData`, which is awaitable and an async context manager.

Nothing here creates a coroutine, so a value that is never awaited warns about nothing.
"""

from __future__ import annotations

import dis
import itertools
import sys
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import CodeType
from typing import Any, Generic, Self, TypeVar

from ..execution import is_async_code

T = TypeVar("T")

__all__ = [
    "AwaitableDict",
    "AwaitableInt",
    "AwaitableList",
    "AwaitableStr",
    "Ready",
    "RequestBody",
    "UnreadBody",
    "awaitable_json",
    "awaited_by_caller",
]


class Ready(Generic[T]):
    """An awaitable whose value is already there: `await Ready(v)` gives `v`."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, T]:
        return self.value
        yield  # a generator: awaiting it returns at once


class RequestBody(bytes):
    """The request body: bytes (`request.body`), and callable as Starlette's
    `await request.body()`, which gives the same bytes."""

    __slots__ = ()

    def __call__(self) -> Awaitable[RequestBody]:
        return Ready(self)


class UnreadBody(RequestBody):
    """`request.body` before the body has been read (a `stream_body=True` route, or code
    that runs before the route reads it): empty bytes, and `await request.body()` reads
    the whole body (bounded by the app's `max_body_size`)."""

    def __new__(cls, read: Callable[[], Coroutine[Any, Any, RequestBody]]) -> Self:
        body = super().__new__(cls, b"")
        body.read = read
        return body

    read: Callable[[], Coroutine[Any, Any, RequestBody]]

    def __call__(self) -> Awaitable[RequestBody]:
        return self.read()


class Later(Generic[T]):
    """`await` it (or `async with` it) to run `produce()`: the values that need the body
    read first (`await request.json()` / `await request.form()` on an unread body)."""

    __slots__ = ("_produce", "_value")

    def __init__(self, produce: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self._produce = produce

    def __await__(self) -> Generator[Any, None, T]:
        return self._produce().__await__()

    async def __aenter__(self) -> T:
        self._value = await self._produce()
        return self._value

    async def __aexit__(self, *exc: object) -> None:
        close = getattr(self._value, "close", None)
        if close is not None:
            close()


class _Awaitable:
    """`await value` gives the value itself."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, Self]:
        return self
        yield


class AwaitableDict(_Awaitable, dict[Any, Any]):
    """A JSON object from `request.json()`: a dict, and `await` gives it back."""

    __slots__ = ()


class AwaitableList(_Awaitable, list[Any]):
    """A JSON array from `request.json()`: a list, and `await` gives it back."""

    __slots__ = ()


class AwaitableStr(_Awaitable, str):
    """A JSON string from `request.json()`: a str, and `await` gives it back."""

    __slots__ = ()


class AwaitableInt(_Awaitable, int):
    """A JSON integer from `request.json()`: an int, and `await` gives it back."""

    __slots__ = ()


_WRAPPERS: dict[type, type] = {
    dict: AwaitableDict,
    list: AwaitableList,
    str: AwaitableStr,
    int: AwaitableInt,
}


def awaitable_json(value: Any) -> Any:
    """`value` (decoded JSON) as its awaitable subclass; `True`, `False`, `None` and
    floats are returned as they are (see `awaited_by_caller`)."""
    wrapper = _WRAPPERS.get(type(value))
    return value if wrapper is None else wrapper(value)


# Seeing `await` at the call site ----------------------------------------------------------

_awaited_calls: weakref.WeakKeyDictionary[CodeType, frozenset[int]] = weakref.WeakKeyDictionary()


def _calls_awaited(code: CodeType) -> frozenset[int]:
    """The offsets of the calls in `code` whose result is awaited right away."""
    found = _awaited_calls.get(code)
    if found is None:
        instructions = list(dis.get_instructions(code))
        # A frame's `f_lasti` may point into the call's inline caches (Python 3.11): every
        # offset up to the `GET_AWAITABLE` belongs to the call.
        found = frozenset(
            offset
            for call, after in itertools.pairwise(instructions)
            if call.opname.startswith("CALL") and after.opname == "GET_AWAITABLE"
            for offset in range(call.offset, after.offset, 2)
        )
        _awaited_calls[code] = found
    return found


def awaited_by_caller(depth: int) -> bool:
    """Whether the call running `depth` frames up from here is the operand of `await`
    (`await request.json()` in an `async def`). False when unsure: a plain function,
    or the result stored and awaited later."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:  # pragma: no cover - no such frame
        return False
    code = frame.f_code
    if not is_async_code(code):  # ambi.execution decides what is async
        return False
    return frame.f_lasti in _calls_awaited(code)
