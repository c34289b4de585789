import functools

import pytest

from ambi.exceptions import ConfigurationError
from ambi.execution import ExecutionKind, classify, is_async_callable


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


@pytest.mark.parametrize(
    ("fn", "kind"),
    [
        (coro_fn, ExecutionKind.ASYNC),
        (sync_fn, ExecutionKind.THREAD),
        (AsyncCallable(), ExecutionKind.ASYNC),
        (SyncCallable(), ExecutionKind.THREAD),
        (functools.partial(coro_fn, 1), ExecutionKind.ASYNC),
        (functools.partial(sync_fn, 1), ExecutionKind.THREAD),
        (decorate(coro_fn), ExecutionKind.ASYNC),
        (decorate(sync_fn), ExecutionKind.THREAD),
        (functools.partial(decorate(coro_fn), 1), ExecutionKind.ASYNC),
        (agen, ExecutionKind.ASYNC),
        (lambda: None, ExecutionKind.THREAD),
    ],
)
def test_classify_auto(fn, kind: ExecutionKind) -> None:
    assert classify(fn) is kind


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


def test_is_async_callable_survives_cycles() -> None:
    def fn() -> None: ...

    fn.__wrapped__ = fn  # type: ignore[attr-defined]
    assert not is_async_callable(fn)
