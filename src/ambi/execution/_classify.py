"""Deciding, once, what kind of callable a user handed us, and what kind of object came back.

The outermost callable decides. A sync `functools.wraps` wrapper around an `async def` is a
sync function (it may block before it returns): it runs in the pool, and an awaitable it
returns is then awaited on the loop. `__wrapped__` is never followed; `functools.partial`,
bound methods and a callable object's `__call__` are looked through, since calling them
runs exactly the function underneath. A function marked with `inspect.markcoroutinefunction`
(or asgiref's marker on Python 3.11) is async.

This module is the only place in ambi that inspects callables or results for sync/async
(`tests/execution/test_one_place.py` checks it).
"""

from __future__ import annotations

import asyncio.coroutines
import contextlib
import enum
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from ..exceptions import ConfigurationError


class ExecutionKind(enum.Enum):
    """Where a callable runs."""

    ASYNC = "async"  # awaited on the event loop
    THREAD = "thread"  # run in the app's bounded thread pool
    INLINE = "inline"  # called directly on the loop (opted in: must be trivial)
    PROCESS = "process"  # run in the app's process pool (picklable, CPU-bound)


class Shape(enum.Enum):
    """What calling a callable gives."""

    VALUE = "value"  # a plain result (a sync function, a class)
    COROUTINE = "coroutine"  # an awaitable: `async def`, a marked function, async __call__
    GENERATOR = "generator"  # a generator: `def` with `yield`
    ASYNC_GENERATOR = "async generator"  # `async def` with `yield`
    CONTEXT = "context manager"  # a `@contextlib.contextmanager` function
    ASYNC_CONTEXT = "async context manager"  # a `@contextlib.asynccontextmanager` function

    @property
    def is_async(self) -> bool:
        """Whether what it gives belongs on the event loop."""
        return self in _ASYNC_SHAPES


_ASYNC_SHAPES = frozenset({Shape.COROUTINE, Shape.ASYNC_GENERATOR, Shape.ASYNC_CONTEXT})

#: The values accepted for `run=` wherever a user hands ambi a callable.
RUN_CHOICES = ("auto", "async", "thread", "inline", "process")

#: An attribute by which an ambi object (the bridge's smartasync forms) declares its shape.
SHAPE_ATTRIBUTE = "_ambi_shape"


@contextlib.contextmanager
def _cm_probe() -> Iterator[None]:
    yield


@contextlib.asynccontextmanager
async def _acm_probe() -> AsyncIterator[None]:
    yield


# Every function made by `@contextmanager` / `@asynccontextmanager` shares its helper's code.
_CONTEXT_CODES: dict[Any, Shape] = {
    _cm_probe.__code__: Shape.CONTEXT,
    _acm_probe.__code__: Shape.ASYNC_CONTEXT,
}

# The markers `inspect.markcoroutinefunction` (3.12+) and asgiref (3.11) put on a function.
_INSPECT_MARK = getattr(inspect, "_is_coroutine_mark", None)
_ASYNCIO_MARK = getattr(asyncio.coroutines, "_is_coroutine", None)


def _is_marked(obj: Any) -> bool:
    if _INSPECT_MARK is not None and getattr(obj, "_is_coroutine_marker", None) is _INSPECT_MARK:
        return True
    return _ASYNCIO_MARK is not None and getattr(obj, "_is_coroutine", None) is _ASYNCIO_MARK


def _declared(obj: Any) -> Shape | None:
    declared = getattr(obj, SHAPE_ATTRIBUTE, None)
    if isinstance(declared, Shape):
        return declared
    return Shape.COROUTINE if _is_marked(obj) else None


def _function_shape(fn: Any) -> Shape:
    context = _CONTEXT_CODES.get(getattr(fn, "__code__", None))
    if context is not None:
        return context
    if inspect.iscoroutinefunction(fn):
        return Shape.COROUTINE
    if inspect.isasyncgenfunction(fn):
        return Shape.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(fn):
        return Shape.GENERATOR
    return Shape.VALUE


def shape_of(fn: Any) -> Shape:
    """What calling `fn` gives; decided by the outermost callable (see the module doc)."""
    seen: set[int] = set()
    current = fn
    while id(current) not in seen:
        seen.add(id(current))
        declared = _declared(current)
        if declared is not None:
            return declared
        if isinstance(current, functools.partial):
            current = current.func
        elif inspect.ismethod(current):
            current = current.__func__
        elif inspect.isfunction(current):
            return _function_shape(current)
        elif inspect.isroutine(current) or inspect.isclass(current):
            return Shape.VALUE  # a builtin, or a class: calling it gives an object
        else:
            call = getattr(type(current), "__call__", None)  # noqa: B004 - the type's
            if call is None:
                return Shape.VALUE
            current = call
    return Shape.VALUE


def _is_importable(fn: Callable[..., Any]) -> bool:
    target = fn.func if isinstance(fn, functools.partial) else fn
    qualname = getattr(target, "__qualname__", "")
    return bool(getattr(target, "__module__", None) and qualname and "<" not in qualname)


def classify(fn: Callable[..., Any], run: str = "auto") -> ExecutionKind:
    """Decide where `fn` runs; raise `ConfigurationError` for a choice that cannot work."""
    if not callable(fn):
        raise ConfigurationError(f"{fn!r} is not callable")
    if run not in RUN_CHOICES:
        raise ConfigurationError(f"run={run!r} is not one of {', '.join(RUN_CHOICES)}")
    is_async = shape_of(fn).is_async
    name = getattr(fn, "__qualname__", repr(fn))
    if run in ("auto", "async"):
        if run == "async" and not is_async:
            raise ConfigurationError(f"run='async' given for {name}, which is not async")
        return ExecutionKind.ASYNC if is_async else ExecutionKind.THREAD
    if is_async:
        raise ConfigurationError(
            f"run={run!r} given for {name}, an async callable: it runs on the event loop"
        )
    if run == "process" and not _is_importable(fn):
        raise ConfigurationError(
            f"run='process' needs a module-level function (picklable); {name} is not"
        )
    return ExecutionKind(run)


# What came back --------------------------------------------------------------------------


# PERF: what handlers mostly return is decided by one set lookup on its exact type.
_NEVER_AWAITABLE = frozenset({dict, list, str, bytes, tuple, int, float, bool, type(None)})


def is_awaitable(obj: Any) -> bool:
    """Whether `obj` must be awaited (a coroutine, a future, anything with `__await__`)."""
    if type(obj) in _NEVER_AWAITABLE:
        return False
    return inspect.isawaitable(obj)


def is_async_iterable(obj: Any) -> bool:
    """Whether `obj` is iterated with `async for` (on the loop)."""
    return hasattr(type(obj), "__aiter__")


def is_async_context(obj: Any) -> bool:
    """Whether `obj` is entered with `async with` (on the loop)."""
    cls = type(obj)
    return hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__")


def is_async_iterator(obj: Any) -> bool:
    """Whether `obj` is an async iterator (an async generator, say)."""
    return hasattr(type(obj), "__anext__")


def is_context(obj: Any) -> bool:
    """Whether `obj` is a sync context manager (entered in the pool)."""
    cls = type(obj)
    return hasattr(cls, "__enter__") and hasattr(cls, "__exit__")


_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE | inspect.CO_ASYNC_GENERATOR


def is_async_code(code: Any) -> bool:
    """Whether a code object runs as a coroutine or an async generator (what a frame of it
    can `await`)."""
    return bool(code.co_flags & _ASYNC_CODE)
