"""`ambi.bridge`: binding (methods, class and static methods), the sync-function form,
`run_sync`, closing generators and context managers, other awaitables, public names."""

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ambi.bridge import (
    run_sync,
    smartasync,
)
from ambi.exceptions import ConfigurationError
from ambi.execution import Engine, Shape, current_worker_loop, shape_of

from ._callees import Loop, PaymentDeclined, count, double, in_thread, in_worker, request_id

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
