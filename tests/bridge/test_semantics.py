"""`ambi.bridge.smartasync` semantics: contextvars, timeouts, exceptions and Ctrl-C."""

import asyncio
import contextvars
import signal
import threading
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ambi.bridge import (
    smartasync,
)
from ambi.exceptions import BridgeError, ConfigurationError

from ._callees import PaymentDeclined, count, double, in_worker, request_id, user

# -- contextvars ---------------------------------------------------------------------------


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
