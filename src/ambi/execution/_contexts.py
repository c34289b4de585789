"""Context managers, generators and iterables from user code, each step where it belongs:
async ones on the loop, sync ones in the thread pool (a blocking step never stalls the loop).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError
from ._classify import Shape, is_async_context, is_async_iterable, is_context

if TYPE_CHECKING:
    from ._engine import Engine


class _PooledContext:
    """A sync context manager entered and left in the thread pool."""

    __slots__ = ("_cm", "_engine")

    def __init__(self, engine: Engine, cm: Any) -> None:
        self._engine = engine
        self._cm = cm

    async def __aenter__(self) -> Any:
        return await self._engine.run_in_thread(type(self._cm).__enter__, self._cm)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        exit_ = type(self._cm).__exit__
        return bool(await self._engine.run_in_thread(exit_, self._cm, exc_type, exc, tb))


class _Entered:
    """The context of an awaited result: entered where its kind belongs."""

    __slots__ = ("_engine", "_inner", "_name", "_result")

    def __init__(self, engine: Engine, result: Awaitable[Any], name: str) -> None:
        self._engine = engine
        self._result = result
        self._name = name
        self._inner: AbstractAsyncContextManager[Any] | None = None

    async def __aenter__(self) -> Any:
        value = await self._result
        if is_async_context(value):
            self._inner = value
        elif is_context(value):
            self._inner = _PooledContext(self._engine, value)
        else:
            raise ConfigurationError(
                f"{self._name} must give an async or a sync context manager, not {value!r}"
            )
        return await self._inner.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if self._inner is None:
            raise RuntimeError(f"the context of {self._name} was left before it was entered")
        return await self._inner.__aexit__(exc_type, exc, tb)


def enter_result(engine: Engine, result: Awaitable[Any], name: str) -> _Entered:
    """`async with` the context manager that `result` (an awaitable) gives."""
    return _Entered(engine, result, name)


def enter_shape(engine: Engine, shape: Shape, made: Any) -> AbstractAsyncContextManager[Any]:
    """`async with` what a generator / context-manager function just made."""
    if shape is Shape.ASYNC_CONTEXT:
        acm: AbstractAsyncContextManager[Any] = made
        return acm
    if shape is Shape.CONTEXT:
        return _PooledContext(engine, made)
    if shape is Shape.ASYNC_GENERATOR:
        return contextlib.asynccontextmanager(lambda: made)()
    if shape is Shape.GENERATOR:
        return _PooledContext(engine, contextlib.contextmanager(lambda: made)())
    raise TypeError(f"a {shape.value} function does not make a context")


_END: Any = object()


def _next(iterator: Iterator[Any]) -> Any:
    return next(iterator, _END)


async def iterate(engine: Engine, iterable: Any) -> AsyncIterator[Any]:
    """The items of a sync or async iterable: async ones on the loop, sync ones (each
    `next()` and the final `close()`) in the thread pool."""
    if is_async_iterable(iterable):
        async for item in iterable:
            yield item
        return
    iterator = iter(iterable)
    try:
        while True:
            item = await engine.run_in_thread(_next, iterator)
            if item is _END:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await engine.run_in_thread(close)
