import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Iterator

import pytest
from asgiref.sync import markcoroutinefunction as asgiref_mark

from ambi.exceptions import ConfigurationError
from ambi.execution import ExecutionKind, Shape, classify, is_awaitable, shape_of


async def coro_fn(x: int) -> int:
    return x


def sync_fn(x: int) -> int:
    return x


class AsyncCallable:
    async def __call__(self) -> None:
        return None


class SyncCallable:
    def __call__(self) -> None:
        return None


def decorate(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


async def agen():
    yield 1


def gen():
    yield 1


@contextlib.contextmanager
def cm() -> Iterator[int]:
    yield 1


@contextlib.asynccontextmanager
async def acm() -> AsyncIterator[int]:
    yield 1


class Methods:
    async def amethod(self) -> None: ...

    def method(self) -> None: ...


@pytest.mark.parametrize(
    ("fn", "kind"),
    [
        (coro_fn, ExecutionKind.ASYNC),
        (sync_fn, ExecutionKind.THREAD),
        (AsyncCallable(), ExecutionKind.ASYNC),
        (SyncCallable(), ExecutionKind.THREAD),
        (functools.partial(coro_fn, 1), ExecutionKind.ASYNC),
        (functools.partial(sync_fn, 1), ExecutionKind.THREAD),
        (Methods().amethod, ExecutionKind.ASYNC),
        (Methods().method, ExecutionKind.THREAD),
        # the outermost callable decides: a sync wrapper may block before it returns
        (decorate(coro_fn), ExecutionKind.THREAD),
        (decorate(sync_fn), ExecutionKind.THREAD),
        (functools.partial(decorate(coro_fn), 1), ExecutionKind.THREAD),
        (agen, ExecutionKind.ASYNC),
        (acm, ExecutionKind.ASYNC),
        (gen, ExecutionKind.THREAD),
        (cm, ExecutionKind.THREAD),
        (lambda: None, ExecutionKind.THREAD),
        (SyncCallable, ExecutionKind.THREAD),  # a class: calling it makes an object
        (len, ExecutionKind.THREAD),
    ],
)
def test_classify_auto(fn, kind: ExecutionKind) -> None:
    assert classify(fn) is kind


@pytest.mark.parametrize(
    ("fn", "shape"),
    [
        (coro_fn, Shape.COROUTINE),
        (sync_fn, Shape.VALUE),
        (agen, Shape.ASYNC_GENERATOR),
        (gen, Shape.GENERATOR),
        (cm, Shape.CONTEXT),
        (acm, Shape.ASYNC_CONTEXT),
        (decorate(acm), Shape.VALUE),  # a wrapper of its own: it gives what it gives
        (functools.partial(acm), Shape.ASYNC_CONTEXT),
        (AsyncCallable(), Shape.COROUTINE),
    ],
)
def test_shapes(fn, shape: Shape) -> None:
    assert shape_of(fn) is shape


def test_marked_coroutine_functions_are_async() -> None:
    """`inspect.markcoroutinefunction` (3.12+) or asgiref's marker (3.11) is honoured."""
    mark = getattr(inspect, "markcoroutinefunction", asgiref_mark)
    wrapper = mark(decorate(coro_fn))
    assert classify(wrapper) is ExecutionKind.ASYNC
    assert shape_of(functools.partial(wrapper, 1)) is Shape.COROUTINE
    assert classify(asgiref_mark(decorate(coro_fn))) is ExecutionKind.ASYNC


def test_explicit_choices() -> None:
    assert classify(sync_fn, "inline") is ExecutionKind.INLINE
    assert classify(sync_fn, "thread") is ExecutionKind.THREAD
    assert classify(sync_fn, "process") is ExecutionKind.PROCESS
    assert classify(coro_fn, "async") is ExecutionKind.ASYNC


@pytest.mark.parametrize(
    ("fn", "run"),
    [
        (coro_fn, "thread"),
        (coro_fn, "inline"),
        (coro_fn, "process"),
        (sync_fn, "async"),
        (decorate(coro_fn), "async"),  # a sync wrapper is not async
        (sync_fn, "fast"),
        (lambda: None, "process"),  # not importable: cannot be pickled
    ],
)
def test_impossible_choices_fail_at_registration(fn, run: str) -> None:
    with pytest.raises(ConfigurationError):
        classify(fn, run)


def test_not_callable() -> None:
    with pytest.raises(ConfigurationError):
        classify(42)  # type: ignore[arg-type]


def test_shape_survives_cycles() -> None:
    class Loop:
        pass

    looping = Loop()
    Loop.__call__ = looping  # type: ignore[attr-defined]  # __call__ is itself
    assert shape_of(looping) is Shape.VALUE


async def test_is_awaitable() -> None:
    coro = coro_fn(1)
    assert is_awaitable(coro)
    await coro
    assert not is_awaitable({"a": 1})
    assert not is_awaitable(None)
    assert not is_awaitable(object())
