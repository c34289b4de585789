import asyncio
import contextvars
import os
import threading
import time

import pytest

from ambi.execution import Engine, Invoker, current_worker_loop, engine_for_loop

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def cpu_square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


async def test_sync_callables_run_in_pool_never_on_loop() -> None:
    engine = Engine(sync_workers=4)
    engine.start()
    loop_thread = threading.get_ident()

    loop = asyncio.get_running_loop()

    def where() -> tuple[int, bool]:
        return threading.get_ident(), current_worker_loop() is loop

    try:
        thread_id, marked_with_our_loop = await Invoker(where, engine)()
        assert thread_id != loop_thread
        assert marked_with_our_loop
        assert engine_for_loop(asyncio.get_running_loop()) is engine
    finally:
        engine.stop()
    assert current_worker_loop() is None


async def test_pool_is_bounded_and_overlaps() -> None:
    engine = Engine(sync_workers=5)
    engine.start()
    invoker = Invoker(time.sleep, engine)
    try:
        started = time.perf_counter()
        await asyncio.gather(*(invoker(0.2) for _ in range(10)))
        elapsed = time.perf_counter() - started
        assert engine.threads is not None
        assert engine.threads.size == 5
        assert 0.35 < elapsed < 1.5  # two waves of five
    finally:
        engine.stop()


async def test_contextvars_flow_into_the_pool() -> None:
    engine = Engine()
    engine.start()
    request_id.set("abc")
    try:
        assert await Invoker(request_id.get, engine)() == "abc"
    finally:
        engine.stop()


async def test_exceptions_keep_their_type_and_traceback() -> None:
    engine = Engine()
    engine.start()

    def boom() -> None:
        raise KeyError("nope")

    try:
        with pytest.raises(KeyError, match="nope") as info:
            await Invoker(boom, engine)()
        assert any(frame.name == "boom" for frame in info.traceback)
    finally:
        engine.stop()


async def test_kwargs_and_inline_and_async() -> None:
    engine = Engine()
    engine.start()

    def add(a: int, *, b: int) -> int:
        return a + b

    async def aadd(a: int, *, b: int) -> int:
        return a + b

    try:
        assert await Invoker(add, engine)(1, b=2) == 3
        assert await Invoker(add, engine, "inline")(1, b=2) == 3
        assert await Invoker(aadd, engine)(1, b=2) == 3
        assert "kind=thread shape=value" in repr(Invoker(add, engine))
    finally:
        engine.stop()


async def test_inline_runs_on_the_loop_thread() -> None:
    engine = Engine()
    assert await Invoker(threading.get_ident, engine, "inline")() == threading.get_ident()


async def test_process_pool() -> None:
    engine = Engine(process_workers=1)
    engine.start()
    try:
        value, pid = await Invoker(cpu_square, engine, "process")(7)
        assert value == 49
        assert pid != os.getpid()
    finally:
        engine.stop()


async def test_engine_starts_lazily_on_first_use() -> None:
    engine = Engine()
    try:
        assert await engine.run_in_thread(lambda: 5) == 5
        assert engine.started
    finally:
        engine.stop()


async def test_cancelled_waiter_does_not_break_the_worker() -> None:
    engine = Engine(sync_workers=1)
    engine.start()
    try:
        task = asyncio.ensure_future(engine.run_in_thread(time.sleep, 0.1))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await engine.run_in_thread(lambda: "still works") == "still works"
    finally:
        engine.stop()


def test_engine_follows_the_running_loop() -> None:
    """One app driven from two event loops in turn (as tests do) must not mix them up."""
    engine = Engine(sync_workers=2)
    invoker = Invoker(lambda: "ok", engine)

    async def call() -> str:
        result: str = await invoker()
        return result

    try:
        for _ in range(3):
            assert asyncio.run(call()) == "ok"
    finally:
        engine.stop()
