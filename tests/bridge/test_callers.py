"""`ambi.bridge.smartasync` from every caller (plain sync code, a plain thread, async code,
an ambi worker thread, an `asyncio.to_thread` worker, sync code nested on a loop thread, 8
threads at once) against every callee (coroutine function, method, async generator, async
context manager), each callee reporting the loop it ran on; and the explicit entry points.
The semantics are in test_semantics.py, the other forms in test_forms.py."""

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, assert_type

import pytest

from ambi.bridge import (
    BoundSmartFunction,
    SmartFunction,
    SyncContextManager,
    SyncIterator,
)
from ambi.exceptions import BridgeError

from ._callees import Doubler, Loop, Outcome, count, double, doubled, in_thread, in_worker


@dataclass
class Callee:
    """One callee, used three ways: a plain sync call, `.sync()`, and from async code."""

    plain: Callable[[], Outcome]
    strict: Callable[[], Outcome]
    awaited: Callable[[], Awaitable[Outcome]]
    expected: Any


def _one(pair: tuple[int, Loop]) -> Outcome:
    return pair[0], {pair[1]}


def _many(pairs: list[tuple[int, Loop]]) -> Outcome:
    return [value for value, _ in pairs], {loop for _, loop in pairs}


def _with_doubled(cm: Any) -> Outcome:
    with cm as pair:
        return _one(pair)


async def _async_with_doubled() -> Outcome:
    async with doubled(21) as pair:
        return _one(pair)


async def _async_count() -> Outcome:
    return _many([pair async for pair in count(3)])


async def _await_one(aw: Awaitable[tuple[int, Loop]]) -> Outcome:
    return _one(await aw)


CALLEES = {
    "function": Callee(
        plain=lambda: _one(double(21)),
        strict=lambda: _one(double.sync(21)),
        awaited=lambda: _await_one(double(21)),
        expected=42,
    ),
    "method": Callee(
        plain=lambda: _one(Doubler(3).double(14)),
        strict=lambda: _one(Doubler(3).double.sync(14)),
        awaited=lambda: _await_one(Doubler(3).double(14)),
        expected=42,
    ),
    "async generator": Callee(
        plain=lambda: _many(list(count(3))),
        strict=lambda: _many(list(count.sync(3))),
        awaited=_async_count,
        expected=[0, 1, 2],
    ),
    "async context manager": Callee(
        plain=lambda: _with_doubled(doubled(21)),
        strict=lambda: _with_doubled(doubled.sync(21)),
        awaited=_async_with_doubled,
        expected=42,
    ),
}


@pytest.fixture(params=list(CALLEES))
def callee(request: pytest.FixtureRequest) -> Callee:
    return CALLEES[request.param]


@pytest.fixture(params=["plain", "strict"])
def use(request: pytest.FixtureRequest, callee: Callee) -> Callable[[], Outcome]:
    """The callee called from sync code, as `f()` or as `f.sync()`."""
    return callee.plain if request.param == "plain" else callee.strict


def test_plain_sync_caller_uses_one_private_loop(
    use: Callable[[], Outcome], callee: Callee
) -> None:
    value, loops = use()
    again, loops_again = use()
    assert value == again == callee.expected
    assert len(loops) == 1
    assert loops == loops_again  # made once, reused
    (loop,) = loops
    assert not loop.is_running()
    assert not loop.is_closed()


def test_plain_thread_gets_its_own_loop_closed_when_it_ends(
    use: Callable[[], Outcome], callee: Callee
) -> None:
    main_value, main_loops = use()
    value, loops = in_thread(use)
    assert value == main_value == callee.expected
    assert loops.isdisjoint(main_loops)
    assert all(loop.is_closed() for loop in loops)  # the thread has ended


def test_async_caller_awaits_on_its_own_loop(callee: Callee) -> None:
    async def main() -> tuple[Outcome, Loop]:
        return await callee.awaited(), asyncio.get_running_loop()

    (value, loops), loop = asyncio.run(main())
    assert value == callee.expected
    assert loops == {loop}


def test_worker_thread_runs_it_on_the_app_loop(use: Callable[[], Outcome], callee: Callee) -> None:
    (value, loops), app_loop = in_worker(use)
    assert value == callee.expected
    assert loops == {app_loop}


def test_to_thread_worker_is_a_plain_thread(use: Callable[[], Outcome], callee: Callee) -> None:
    async def main() -> tuple[Outcome, Loop]:
        return await asyncio.to_thread(use), asyncio.get_running_loop()

    (value, loops), caller_loop = asyncio.run(main())
    assert value == callee.expected
    assert caller_loop not in loops
    assert all(loop.is_closed() for loop in loops)  # asyncio.run joined its executor


def test_eight_threads_at_once(use: Callable[[], Outcome], callee: Callee) -> None:
    barrier = threading.Barrier(8)
    results: list[Outcome] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            barrier.wait()
            results.extend(use() for _ in range(20))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [value for value, _ in results] == [callee.expected] * 160
    loops = set().union(*(loops for _, loops in results))
    assert len(loops) == 8  # one per thread, reused by its 20 calls
    assert all(loop.is_closed() for loop in loops)


def test_strict_sync_on_a_loop_thread_raises(callee: Callee) -> None:
    """Case 3: sync code called from async code. `.sync()` says so, never blocks."""

    def sync_helper() -> Outcome:  # sync code, but running on the loop's thread
        return callee.strict()

    async def main() -> None:
        with pytest.raises(BridgeError) as info:
            sync_helper()
        message = str(info.value)
        assert "event loop is running" in message
        assert "await" in message
        assert "run_sync" in message

    asyncio.run(main())


def test_plain_call_on_a_loop_thread_is_the_async_form(callee: Callee) -> None:
    """A plain call on a loop thread cannot tell sync code from async code: it gives
    what async code needs (documented); awaited, it works."""

    async def main() -> Outcome:
        return await callee.awaited()

    value, _ = asyncio.run(main())
    assert value == callee.expected


def test_strict_sync_error_names_the_function() -> None:
    async def main() -> None:
        with pytest.raises(BridgeError, match=r"double\.sync\(\)"):
            double.sync(1)
        with pytest.raises(BridgeError, match=r"Doubler\.double"):
            Doubler().double.sync(1)

    asyncio.run(main())


def test_iterator_made_in_sync_code_refuses_a_loop_thread() -> None:
    iterator = count(3)
    assert next(iterator)[0] == 0

    async def main() -> None:
        with pytest.raises(BridgeError, match="next"):
            next(iterator)

    asyncio.run(main())
    assert [value for value, _ in iterator] == [1, 2]  # unharmed


# -- explicit entry points -----------------------------------------------------------------


def test_aio_always_gives_the_awaitable() -> None:
    coro = double.aio(2)
    assert inspect.iscoroutine(coro)
    assert asyncio.run(coro)[0] == 4
    agen = count.aio(2)
    assert inspect.isasyncgen(agen)
    asyncio.run(agen.aclose())
    cm = doubled.aio(1)
    assert hasattr(cm, "__aenter__")


async def test_awaiting_in_a_pytest_asyncio_test() -> None:
    assert (await double(5))[0] == 10
    assert (await Doubler().double.aio(5))[0] == 10
    assert [value async for value, _ in count.aio(2)] == [0, 1]


def test_sync_forms_are_typed_wrappers() -> None:
    assert isinstance(count(1), SyncIterator)
    assert isinstance(doubled(1), SyncContextManager)
    assert isinstance(double, SmartFunction)
    assert isinstance(Doubler().double, BoundSmartFunction)
    value = double.sync(1)
    assert_type(value, tuple[int, Loop])
