"""Invoker: each shape of callable runs where it belongs, and gives what it should."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from ambi.exceptions import ConfigurationError
from ambi.execution import Engine, Invoker, iterate

where: contextvars.ContextVar[str] = contextvars.ContextVar("where", default="-")


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    engine = Engine(sync_workers=4)
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


def blocking_wrapper(fn: Callable[..., Any], log: list[tuple[str, int]]) -> Callable[..., Any]:
    """A sync decorator (keeps `__wrapped__`) around an async function: it blocks first."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)  # would stall every request if it ran on the loop
        log.append(("wrapper", threading.get_ident()))
        return fn(*args, **kwargs)

    return wrapper


async def test_sync_wrapper_runs_in_the_pool_and_its_coroutine_on_the_loop(
    engine: Engine,
) -> None:
    log: list[tuple[str, int]] = []

    async def handler(x: int) -> int:
        log.append(("coroutine", threading.get_ident()))
        await asyncio.sleep(0)
        return x * 2

    invoker = Invoker(blocking_wrapper(handler, log), engine)
    assert invoker.kind.value == "thread"
    where.set("caller")
    assert await invoker(21) == 42
    loop_thread = threading.get_ident()
    assert log[0][0] == "wrapper"
    assert log[0][1] != loop_thread
    assert log[1] == ("coroutine", loop_thread)


async def test_awaitable_from_a_sync_function_keeps_contextvars_and_errors(engine: Engine) -> None:
    async def fails() -> None:
        assert where.get() == "caller"
        raise KeyError("inner")

    def wrapper() -> Any:
        return fails()

    where.set("caller")
    with pytest.raises(KeyError, match="inner"):
        await Invoker(wrapper, engine)()


async def test_cancelling_the_caller_cancels_the_awaited_coroutine(engine: Engine) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def wrapper() -> object:
        return slow()

    task = asyncio.ensure_future(Invoker(wrapper, engine)())
    await asyncio.wait_for(started.wait(), 2)
    task.cancel()
    await asyncio.wait_for(cancelled.wait(), 2)


@contextlib.contextmanager
def sync_cm(log: list[str]) -> Iterator[str]:
    log.append(f"enter on loop thread: {threading.current_thread() is threading.main_thread()}")
    yield "sync value"
    log.append("exit")


@contextlib.asynccontextmanager
async def async_cm(log: list[str]) -> AsyncIterator[str]:
    log.append("enter")
    yield "async value"
    log.append("exit")


def sync_gen(log: list[str]) -> Iterator[str]:
    log.append(f"enter on loop thread: {threading.current_thread() is threading.main_thread()}")
    try:
        yield "gen value"
    except ValueError:
        log.append("saw the error")
        raise
    finally:
        log.append("exit")


async def async_gen(log: list[str]) -> AsyncIterator[str]:
    log.append("enter")
    try:
        yield "agen value"
    finally:
        log.append("exit")


class Lifespan:
    """A class whose instances are async context managers (a lifespan shape)."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def __aenter__(self) -> str:
        self.log.append("enter")
        return "class value"

    async def __aexit__(self, *exc: object) -> None:
        self.log.append("exit")


def returns_sync_cm(log: list[str]) -> contextlib.AbstractContextManager[str]:
    return sync_cm(log)


@pytest.mark.parametrize(
    ("fn", "value"),
    [
        (sync_cm, "sync value"),
        (async_cm, "async value"),
        (sync_gen, "gen value"),
        (async_gen, "agen value"),
        (Lifespan, "class value"),
        (returns_sync_cm, "sync value"),
    ],
)
async def test_enter_every_context_shape(
    engine: Engine, fn: Callable[..., Any], value: str
) -> None:
    log: list[str] = []
    async with Invoker(fn, engine).enter(log) as got:
        assert got == value
    assert log[-1] == "exit"
    assert "enter on loop thread: True" not in log  # sync steps ran in the pool


async def test_errors_reach_a_generator_context(engine: Engine) -> None:
    log: list[str] = []
    with pytest.raises(ValueError, match="boom"):
        async with Invoker(sync_gen, engine).enter(log):
            raise ValueError("boom")
    assert log[-2:] == ["saw the error", "exit"]


async def test_enter_refuses_what_is_no_context(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="must give an async or a sync context manager"):
        async with Invoker(lambda: 42, engine).enter():
            pass


async def test_calling_a_generator_function_gives_the_generator(engine: Engine) -> None:
    log: list[str] = []
    made = await Invoker(sync_gen, engine)(log)
    assert [item async for item in iterate(engine, made)] == ["gen value"]
    made = await Invoker(async_gen, engine)(log)
    assert [item async for item in iterate(engine, made)] == ["agen value"]


async def test_iterate_runs_sync_steps_in_the_pool_and_closes(engine: Engine) -> None:
    threads: list[int] = []
    closed: list[bool] = []

    def numbers() -> Iterator[int]:
        try:
            for i in range(5):
                threads.append(threading.get_ident())
                yield i
        finally:
            closed.append(True)

    stream = iterate(engine, numbers())
    got = [await anext(stream), await anext(stream)]
    await stream.aclose()  # type: ignore[attr-defined]
    assert got == [0, 1]
    assert closed == [True]
    assert threading.get_ident() not in threads
