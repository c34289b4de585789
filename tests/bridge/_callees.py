"""Shared by the smartasync tests (tests/bridge/test_callers.py, test_semantics.py,
test_forms.py): callees that tell which loop ran them, and the callers that run them in a
plain thread or in an engine's worker thread."""

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from ambi.bridge import (
    smartasync,
)
from ambi.execution import Engine

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


# -- shared by the semantics tests and the other forms' -----------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user: contextvars.ContextVar[str] = contextvars.ContextVar("user")


class PaymentDeclined(Exception):
    pass
