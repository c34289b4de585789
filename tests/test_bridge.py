"""`ambi.bridge`: smartasync and run_sync.

Every caller (plain sync code, a plain thread, async code, an ambi worker thread, an
`asyncio.to_thread` worker, sync code nested on a loop thread, 8 threads at once) against
every callee (coroutine function, method, async generator, async context manager), each
callee reporting the loop it ran on; then the semantics: contextvars, timeouts, exceptions,
Ctrl-C, binding, the sync-function form, run_sync. Threads under load, file descriptors,
interpreter exit and fork are in tests/bridge/.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import signal
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, assert_type

import pytest

from ambi.bridge import (
    BoundSmartFunction,
    SmartFunction,
    SyncContextManager,
    SyncIterator,
    run_sync,
    smartasync,
)
from ambi.exceptions import BridgeError, ConfigurationError
from ambi.execution import Engine, Shape, current_worker_loop, shape_of

Loop = asyncio.AbstractEventLoop
Outcome = tuple[Any, set[Loop]]  # what a callee gave, and the loops it ran on

# -- callees: each tells which loop ran it --------------------------------------------------


@smartasync
async def double(x: int) -> tuple[int, Loop]:
    await asyncio.sleep(0)
    return 2 * x, asyncio.get_running_loop()


class Doubler:
    def __init__(self, factor: int = 2) -> None:
        self.factor = factor

    @smartasync
    async def double(self, x: int) -> tuple[int, Loop]:
        await asyncio.sleep(0)
        return self.factor * x, asyncio.get_running_loop()


@smartasync
async def count(n: int) -> AsyncIterator[tuple[int, Loop]]:
    task = asyncio.current_task()
    for i in range(n):
        await asyncio.sleep(0)
        assert asyncio.current_task() is task  # every step in one task
        yield i, asyncio.get_running_loop()


@smartasync
@asynccontextmanager
async def doubled(x: int) -> AsyncIterator[tuple[int, Loop]]:
    task = asyncio.current_task()
    await asyncio.sleep(0)
    yield 2 * x, asyncio.get_running_loop()
    await asyncio.sleep(0)
    assert asyncio.current_task() is task  # entered and exited in one task


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


# -- callers -------------------------------------------------------------------------------


def in_thread(fn: Callable[[], Any]) -> Any:
    """fn() in a new plain thread; its result (or exception) once the thread has ended."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def in_worker(fn: Callable[[], Any]) -> tuple[Any, Loop]:
    """fn() in a worker thread of a running engine; its result and the engine's loop."""

    async def main() -> tuple[Any, Loop]:
        engine = Engine(sync_workers=2)
        engine.start()
        try:
            return await engine.run_in_thread(fn), asyncio.get_running_loop()
        finally:
            engine.stop()

    return asyncio.run(main())


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


# -- contextvars ---------------------------------------------------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user: contextvars.ContextVar[str] = contextvars.ContextVar("user")


@smartasync
async def tag(suffix: str) -> str:
    seen = request_id.get()
    await asyncio.sleep(0)
    request_id.set(f"{seen}{suffix}")
    user.set("ada")
    return seen


def test_contextvars_flow_in_and_back_out_in_a_plain_thread() -> None:
    def body() -> tuple[str, str, str]:
        request_id.set("r1")
        seen = tag(".a")
        return seen, request_id.get(), user.get()

    assert contextvars.copy_context().run(body) == ("r1", "r1.a", "ada")


def test_contextvars_flow_in_and_back_out_in_a_worker() -> None:
    def body() -> tuple[str, str, str]:
        request_id.set("w1")
        seen = tag.sync(".b")
        return seen, request_id.get(), user.get()

    result, _ = in_worker(lambda: contextvars.copy_context().run(body))
    assert result == ("w1", "w1.b", "ada")


def test_contextvars_flow_back_even_when_it_raises() -> None:
    @smartasync
    async def set_then_fail() -> None:
        request_id.set("before the error")
        raise LookupError

    def body() -> str:
        with pytest.raises(LookupError):
            set_then_fail()
        return request_id.get()

    assert contextvars.copy_context().run(body) == "before the error"


def test_context_manager_variables_live_between_enter_and_exit() -> None:
    @smartasync
    @asynccontextmanager
    async def as_user(name: str) -> AsyncIterator[None]:
        token = user.set(name)
        try:
            yield
        finally:
            user.reset(token)

    def body() -> tuple[str, str]:
        with as_user("grace"):
            inside = user.get()
            request_id.set("set in the body")  # the caller's own change is kept
        return inside, user.get("unset")

    ctx = contextvars.copy_context()
    assert ctx.run(body) == ("grace", "unset")
    assert ctx[request_id] == "set in the body"


def test_generator_sees_one_context_across_steps() -> None:
    @smartasync
    async def numbered() -> AsyncIterator[str]:
        for i in range(3):
            request_id.set(str(i))
            yield request_id.get()

    def body() -> tuple[list[str], str]:
        return list(numbered()), request_id.get()

    assert contextvars.copy_context().run(body) == (["0", "1", "2"], "2")


# -- timeouts ------------------------------------------------------------------------------


class Sleeper:
    """Sleeps, and records when its finally block ran."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @smartasync(timeout=0.05)
    async def nap(self, seconds: float) -> str:
        try:
            await asyncio.sleep(seconds)
            return "rested"
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits
            self.events.append("finally")

    @smartasync
    async def sleep(self, seconds: float) -> str:
        try:
            await asyncio.sleep(seconds)
            return "rested"
        finally:
            self.events.append("finally")

    @smartasync
    async def fetch(self, url: str, timeout: float = 10.0) -> float:
        await asyncio.sleep(0.01)
        return timeout  # its own `timeout` parameter: never taken by the bridge


def test_decorator_timeout_cancels_and_waits_for_finally() -> None:
    sleeper = Sleeper()
    start = time.perf_counter()
    with pytest.raises(TimeoutError) as info:
        sleeper.nap(5)
    assert time.perf_counter() - start < 2
    assert sleeper.events == ["finally"]  # ran before we raised
    assert "Sleeper.nap did not finish within 0.05 s" in "".join(info.value.__notes__)
    assert sleeper.nap(0) == "rested"


def test_per_call_timeout_and_with_timeout() -> None:
    sleeper = Sleeper()
    with pytest.raises(TimeoutError):
        sleeper.sleep(5, timeout=0.02)
    with pytest.raises(TimeoutError):
        sleeper.sleep.with_timeout(0.02)(5)
    with pytest.raises(TimeoutError):
        sleeper.sleep.sync(5, timeout=0.02)
    assert sleeper.events == ["finally"] * 3
    assert sleeper.nap.with_timeout(None)(0.06) == "rested"  # the decorator's, lifted


def test_own_timeout_parameter_is_passed_through() -> None:
    sleeper = Sleeper()
    assert sleeper.fetch("u", timeout=3.0) == 3.0
    assert sleeper.fetch.sync("u", timeout=4.0) == 4.0
    with pytest.raises(TimeoutError):
        sleeper.fetch.with_timeout(0.001).sync("u")  # the bridge's, set apart


def test_timeout_applies_to_async_callers_and_workers() -> None:
    sleeper = Sleeper()

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await sleeper.nap(5)
        with pytest.raises(TimeoutError):
            await sleeper.sleep.aio(5, timeout=0.02)

    asyncio.run(main())
    with pytest.raises(TimeoutError):
        in_worker(lambda: sleeper.sleep(5, timeout=0.02))
    assert sleeper.events == ["finally"] * 3


def test_timeout_bounds_each_generator_step() -> None:
    closed: list[str] = []

    @smartasync(timeout=0.05)
    async def ticks() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.sleep(5)
            yield 2
        finally:
            closed.append("closed")

    iterator = ticks()
    assert next(iterator) == 1
    with pytest.raises(TimeoutError):
        next(iterator)
    assert closed == ["closed"]
    assert list(iterator) == []


def test_timeout_for_async_generators_in_async_code_is_refused() -> None:
    async def main() -> None:
        with pytest.raises(BridgeError, match=r"asyncio\.timeout"):
            count.aio(1, timeout=1)

    asyncio.run(main())


@pytest.mark.parametrize("bad", [0, -1, "1", True])
def test_bad_timeouts_are_configuration_errors(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        smartasync(timeout=bad)(Sleeper.sleep)
    with pytest.raises(ConfigurationError):
        Sleeper().sleep(0, timeout=bad)


# -- exceptions and Ctrl-C -----------------------------------------------------------------


class PaymentDeclined(Exception):
    pass


@smartasync
async def charge(amount: int) -> None:
    await asyncio.sleep(0)
    raise PaymentDeclined(amount)


@pytest.mark.parametrize("where", ["plain thread", "worker"])
def test_exceptions_keep_their_type_and_traceback(where: str) -> None:
    def call() -> BaseException:
        try:
            charge(7)
        except PaymentDeclined as exc:
            return exc
        raise AssertionError("no exception")

    exc = call() if where == "plain thread" else in_worker(call)[0]
    assert type(exc) is PaymentDeclined
    assert exc.args == (7,)
    frames = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
    assert "charge" in frames  # the coroutine's own frame is in the traceback


def test_ctrl_c_cancels_the_coroutine_then_raises() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else here")
    cleaned: list[str] = []
    main_thread = threading.main_thread().ident
    assert threading.get_ident() == main_thread

    @smartasync
    async def long_job() -> None:
        # Ctrl-C arrives while the loop waits in select(), as it would for a person.
        threading.Timer(0.05, signal.pthread_kill, (main_thread, signal.SIGINT)).start()
        try:
            await asyncio.sleep(5)
        finally:
            await asyncio.sleep(0)
            cleaned.append("finally")

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        long_job()
    assert time.perf_counter() - start < 2
    assert cleaned == ["finally"]
    assert double(1)[0] == 2  # the thread's loop is still usable


def test_ctrl_c_during_a_generator_step_closes_the_generator() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else here")
    cleaned: list[str] = []
    main_thread = threading.main_thread().ident
    assert threading.get_ident() == main_thread

    @smartasync
    async def ticks() -> AsyncIterator[int]:
        try:
            yield 1
            threading.Timer(0.05, signal.pthread_kill, (main_thread, signal.SIGINT)).start()
            await asyncio.sleep(5)
            yield 2
        finally:
            cleaned.append("finally")

    iterator = ticks()
    assert next(iterator) == 1
    with pytest.raises(KeyboardInterrupt):
        next(iterator)
    assert cleaned == ["finally"]
    assert list(iterator) == []


# -- binding: methods, class and static methods --------------------------------------------


class Registry:
    prefix = "reg"

    def __init__(self, name: str) -> None:
        self.name = name

    @smartasync
    async def describe(self, suffix: str = "") -> str:
        return f"{self.name}{suffix}"

    @smartasync
    @classmethod
    async def build(cls, name: str) -> str:
        return f"{cls.prefix}:{name}"

    @classmethod
    @smartasync
    async def build_below(cls, name: str) -> str:
        return f"{cls.prefix}:{name}"

    @smartasync
    @staticmethod
    async def shout(word: str) -> str:
        return word.upper()

    @staticmethod
    @smartasync
    async def shout_below(word: str) -> str:
        return word.upper()


class SubRegistry(Registry):
    prefix = "sub"


def test_instance_methods_bind_like_methods() -> None:
    registry = Registry("r")
    assert registry.describe("!") == "r!"
    assert registry.describe.sync(suffix="?") == "r?"
    assert Registry.describe(registry, "#") == "r#"  # unbound, through the class
    assert Registry.describe.sync(registry) == "r"
    assert asyncio.run(registry.describe.aio("~")) == "r~"
    assert registry.describe == registry.describe
    assert registry.describe != Registry("r").describe
    assert registry.describe.__self__ is registry
    assert "bound smartasync Registry.describe" in repr(registry.describe)
    assert registry.describe.__name__ == "describe"


def test_class_and_static_methods_in_both_orders() -> None:
    sub = SubRegistry("s")
    assert Registry.build("x") == "reg:x"
    assert SubRegistry.build("x") == "sub:x"
    assert sub.build.sync("y") == "sub:y"
    assert Registry.build_below("z") == "reg:z"
    assert sub.build_below("z") == "sub:z"
    assert Registry.shout("hi") == sub.shout.sync("hi") == "HI"
    assert Registry.shout_below("hi") == sub.shout_below.sync("hi") == "HI"

    async def main() -> list[str]:
        return [
            await SubRegistry.build("a"),
            await sub.build.aio("b"),
            await Registry.shout("c"),
            await sub.shout_below.aio("d"),
        ]

    assert asyncio.run(main()) == ["sub:a", "sub:b", "C", "D"]


def test_signature_and_classification_see_the_async_function() -> None:
    registry = Registry("r")
    assert list(inspect.signature(registry.describe).parameters) == ["suffix"]
    assert list(inspect.signature(double).parameters) == ["x"]
    assert shape_of(double) is Shape.COROUTINE
    assert shape_of(registry.describe) is Shape.COROUTINE
    assert double.__name__ == "double"
    assert double.__wrapped__.__name__ == "double"


def test_with_timeout_keeps_the_binding() -> None:
    assert Registry("q").describe.with_timeout(1)("!") == "q!"
    assert SubRegistry.build.with_timeout(1)("w") == "sub:w"


def test_classes_and_non_callables_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="decorate its async methods"):
        smartasync(Registry)
    with pytest.raises(ConfigurationError, match="callable"):
        smartasync(42)  # type: ignore[call-overload]


# -- a plain def: direct in sync code, in a thread for async code ------------------------


@smartasync
def blocking_add(a: int, b: int) -> tuple[int, str, Loop | None]:
    time.sleep(0.001)
    return a + b, threading.current_thread().name, current_worker_loop()


def test_sync_function_from_sync_code_is_a_direct_call() -> None:
    total, thread, worker_loop = blocking_add(1, 2)
    assert (total, thread, worker_loop) == (3, threading.current_thread().name, None)
    assert blocking_add.sync(2, 2)[0] == 4


def test_sync_function_from_async_code_runs_in_a_marked_thread() -> None:
    async def main() -> tuple[tuple[int, str, Loop | None], Loop]:
        return await blocking_add(1, b=2), asyncio.get_running_loop()

    (total, thread, worker_loop), loop = asyncio.run(main())
    assert total == 3
    assert thread != threading.current_thread().name
    assert worker_loop is loop  # case 1 applies inside it


def test_sync_function_refuses_a_timeout() -> None:
    with pytest.raises(ConfigurationError, match="thread cannot be cancelled"):
        smartasync(timeout=1)(time.sleep)


# -- run_sync --------------------------------------------------------------------------------


def sync_calls_async(x: int) -> tuple[int, Loop]:
    """Blocking code that calls smartasync code: from run_sync, on the caller's loop."""
    return double(x)


async def test_run_sync_outside_an_app_marks_the_worker() -> None:
    (value, loop), name = await run_sync(
        lambda: (sync_calls_async(4), threading.current_thread().name)
    )
    assert value == 8
    assert loop is asyncio.get_running_loop()
    assert name.startswith("ambi-run-sync")
    assert current_worker_loop() is None


async def test_run_sync_passes_arguments_and_contextvars() -> None:
    request_id.set("from the caller")

    def job(a: int, *, b: int) -> tuple[int, str]:
        return a + b, request_id.get()

    assert await run_sync(job, 1, b=2) == (3, "from the caller")


async def test_run_sync_inside_an_app_uses_its_pool() -> None:
    engine = Engine(sync_workers=2)
    engine.start()
    try:
        (value, loop), name = await run_sync(
            lambda: (sync_calls_async(5), threading.current_thread().name)
        )
        assert await run_sync(lambda *, k: k, k="kw") == "kw"
    finally:
        engine.stop()
    assert value == 10
    assert loop is asyncio.get_running_loop()
    assert name.startswith("ambi-worker")


async def test_run_sync_keeps_exceptions() -> None:
    def fail() -> None:
        raise PaymentDeclined("in a thread")

    with pytest.raises(PaymentDeclined, match="in a thread"):
        await run_sync(fail)


# -- generators and context managers: closing, errors --------------------------------------


def test_closing_an_iterator_runs_aclose_on_its_loop() -> None:
    events: list[tuple[str, Loop]] = []

    @smartasync
    async def stream() -> AsyncIterator[int]:
        try:
            for i in range(100):
                yield i
        finally:
            await asyncio.sleep(0)
            events.append(("closed", asyncio.get_running_loop()))

    def consume() -> Loop:
        iterator = stream()
        assert [next(iterator), next(iterator)] == [0, 1]
        iterator.close()
        iterator.close()  # idempotent
        assert list(iterator) == []
        return double(0)[1]  # the loop this thread's calls run on

    loop = consume()
    assert events == [("closed", loop)]
    _, app_loop = in_worker(consume)
    assert events[1] == ("closed", app_loop)


def test_dropping_an_unfinished_iterator_closes_it() -> None:
    closed: list[str] = []

    @smartasync
    async def stream() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            closed.append("closed")

    def body() -> None:
        iterator = stream()
        next(iterator)
        del iterator  # the close is sent to the loop
        double(0)  # the thread's next call runs it

    in_thread(body)
    assert closed == ["closed"]


def test_generator_errors_reach_the_consumer() -> None:
    @smartasync
    async def broken() -> AsyncIterator[int]:
        yield 1
        raise PaymentDeclined("mid-stream")

    iterator = broken()
    assert next(iterator) == 1
    with pytest.raises(PaymentDeclined, match="mid-stream"):
        next(iterator)
    with pytest.raises(StopIteration):
        next(iterator)


def test_context_manager_sees_the_body_exception_and_may_suppress() -> None:
    seen: list[type[BaseException] | None] = []

    @smartasync
    @asynccontextmanager
    async def guard(suppress: bool) -> AsyncIterator[str]:
        try:
            yield "in"
        except PaymentDeclined:
            seen.append(PaymentDeclined)
            if not suppress:
                raise

    with guard(True) as value:
        assert value == "in"
        raise PaymentDeclined
    with pytest.raises(PaymentDeclined) as info, guard(False):
        raise PaymentDeclined("original")
    assert info.value.args == ("original",)
    assert seen == [PaymentDeclined, PaymentDeclined]


def test_context_manager_errors_on_enter_and_exit() -> None:
    @smartasync
    @asynccontextmanager
    async def fails_on(where: str) -> AsyncIterator[None]:
        if where == "enter":
            raise PaymentDeclined("enter")
        yield
        raise PaymentDeclined("exit")

    with pytest.raises(PaymentDeclined, match="enter"), fails_on("enter"):
        pass
    with pytest.raises(PaymentDeclined, match="exit"), fails_on("exit"):
        pass


# -- smartasync on other awaitables ---------------------------------------------------------


def test_callable_objects_and_partials() -> None:
    import functools

    class Service:
        async def __call__(self, x: int) -> int:
            return x + 1

    assert smartasync(Service())(1) == 2
    assert smartasync(functools.partial(double.__wrapped__, 4))()[0] == 8


def test_async_generator_lookalike_from_a_wrapper() -> None:
    def passthrough(fn: Callable[..., Any]) -> Callable[..., Any]:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    @smartasync
    @passthrough
    async def numbers() -> AsyncIterator[int]:
        yield 1
        yield 2

    assert list(numbers()) == [1, 2]


def test_iterator_protocol() -> None:
    iterator: Iterator[tuple[int, Loop]] = count(1)
    assert iter(iterator) is iterator
    assert "SyncIterator of count" in repr(iterator)
    assert len(list(iterator)) == 1


def test_decorating_twice_is_decorating_once() -> None:
    twice = smartasync(double)
    assert twice is double
    assert smartasync(timeout=5)(double)(2)[0] == 4
    assert smartasync(timeout=5)(double)._timeout == 5.0


def test_a_wrapper_that_already_ran_gives_its_value() -> None:
    import functools

    def runs_it(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)  # looks async through __wrapped__, but gives a value
        def wrapper(x: int) -> Any:
            return fn.sync(x)  # type: ignore[attr-defined]

        return wrapper

    assert smartasync(runs_it(double))(4)[0] == 8


def test_public_names() -> None:
    import ambi.bridge

    assert sorted(ambi.bridge.__all__) == [
        "BoundSmartFunction",
        "SmartClassMethod",
        "SmartFunction",
        "SmartStaticMethod",
        "SyncContextManager",
        "SyncIterator",
        "run_sync",
        "smartasync",
    ]
    assert all(hasattr(ambi.bridge, name) for name in ambi.bridge.__all__)
