"""Deciding, once, what kind of callable a user handed us."""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..exceptions import ConfigurationError


class ExecutionKind(enum.Enum):
    """Where a callable runs."""

    ASYNC = "async"  # awaited on the event loop
    THREAD = "thread"  # run in the app's bounded thread pool
    INLINE = "inline"  # called directly on the loop (opted in: must be trivial)
    PROCESS = "process"  # run in the app's process pool (picklable, CPU-bound)


#: The values accepted for `run=` wherever a user hands ambi a callable.
RUN_CHOICES = ("auto", "async", "thread", "inline", "process")


def _unwrap_layers(fn: Any) -> list[Any]:
    """The callable itself, then what it wraps: partials, `__wrapped__`, `__call__`."""
    layers: list[Any] = []
    seen: set[int] = set()
    current = fn
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        layers.append(current)
        if isinstance(current, functools.partial):
            current = current.func
        elif hasattr(current, "__wrapped__"):
            current = current.__wrapped__
        elif not inspect.isroutine(current) and not inspect.isclass(current):
            current = getattr(current, "__call__", None)  # noqa: B004 - we want the bound method
        else:
            current = None
    return layers


def is_async_callable(fn: Any) -> bool:
    """True when calling `fn` gives an awaitable coroutine.

    Looks through `functools.partial`, decorators that keep `__wrapped__`, and callable
    objects whose `__call__` is a coroutine function.
    """
    return any(inspect.iscoroutinefunction(layer) for layer in _unwrap_layers(fn))


def is_async_gen_callable(fn: Any) -> bool:
    """True when calling `fn` gives an async generator."""
    return any(inspect.isasyncgenfunction(layer) for layer in _unwrap_layers(fn))


def is_gen_callable(fn: Any) -> bool:
    """True when calling `fn` gives a (sync) generator."""
    return any(inspect.isgeneratorfunction(layer) for layer in _unwrap_layers(fn))


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
    is_async = is_async_callable(fn) or is_async_gen_callable(fn)
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
