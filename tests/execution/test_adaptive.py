"""Adaptive inline: a `def` route handler proves itself fast in the pool before it runs on
the loop, and one slow inline call sends it back to the pool for good."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator

import pytest

from ambi import smartasync
from ambi.exceptions import ConfigurationError
from ambi.execution import Engine, Invoker

ROUTE = "GET /adaptive"


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    engine = Engine(sync_workers=4, inline_threshold=0.02, inline_after=5, inline_stall_limit=0.04)
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


async def calls(invoker: Invoker, n: int, *args: object) -> list[bool]:
    """Call `n` times; for each, whether it ran on this (the loop's) thread."""
    loop_thread = threading.get_ident()
    return [await invoker(*args) == loop_thread for _ in range(n)]


async def test_promoted_after_enough_fast_calls(engine: Engine) -> None:
    invoker = Invoker(threading.get_ident, engine, route=ROUTE)
    assert invoker.inline_state == "pool"
    assert await calls(invoker, 5) == [False] * 5
    assert invoker.inline_state == "inline"
    assert await calls(invoker, 3) == [True] * 3
    assert engine.stats.promoted == {ROUTE: 5}


async def test_one_slow_inline_call_demotes_for_good(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(delay: float) -> int:
        time.sleep(delay)
        return threading.get_ident()

    invoker = Invoker(handler, engine, route=ROUTE)
    await calls(invoker, 5, 0)
    assert invoker.inline_state == "inline"
    with caplog.at_level(logging.WARNING, "ambi.execution"):
        assert await calls(invoker, 1, 0.05) == [True]  # the one stall
    assert invoker.inline_state == "demoted"
    assert await calls(invoker, 20, 0) == [False] * 20  # fast again, but never inline again
    assert ROUTE in engine.stats.demoted
    assert engine.stats.demoted[ROUTE] >= 0.05
    assert [r for r in caplog.records if ROUTE in r.getMessage()], "the demotion is logged"


@pytest.mark.parametrize("one_argument", [False, True])
async def test_slow_inline_calls_under_the_stall_limit_are_checked(
    engine: Engine, one_argument: bool
) -> None:
    """One inline call over the threshold (under the stall limit) may be noise: the next
    calls are watched closely, and two more slow ones because of the handler demote it.
    The same for a callable always called with one argument (a route's dependency trip),
    whose inline call is `inline_one`."""

    def handler(delay: float) -> int:
        time.sleep(delay)  # a wait: a voluntary context switch, the handler's doing
        return threading.get_ident()

    invoker = Invoker(handler, engine, route=ROUTE)
    adaptive = invoker.adaptive
    assert adaptive is not None
    if one_argument:
        adaptive.called_with_one_argument()
    fast = adaptive.inline_one if one_argument else adaptive.inline
    await calls(invoker, 5, 0)
    assert invoker.__call__ == fast
    assert await calls(invoker, 1, 0.025) == [True]  # suspicious: watched from now on
    assert invoker.__call__ == adaptive.inline_checked
    assert await calls(invoker, 1000, 0) == [True] * 1000  # nothing more: it was noise
    assert invoker.__call__ == fast
    assert await calls(invoker, 1, 0.025) == [True]
    assert await calls(invoker, 2, 0.025) == [True, True]  # two strikes while watched
    assert invoker.inline_state == "demoted"
    assert await calls(invoker, 1, 0) == [False]


async def test_preempted_calls_are_not_the_handlers_fault(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that neither waited nor computed (its thread was preempted) is no strike."""
    import ambi.execution._adaptive as adaptive_module

    def handler(delay: float) -> int:
        time.sleep(delay)
        return threading.get_ident()

    invoker = Invoker(handler, engine, route=ROUTE)
    await calls(invoker, 5, 0)
    monkeypatch.setattr(adaptive_module, "_usage", lambda: (0, 0.0))  # as if preempted
    assert await calls(invoker, 5, 0.025) == [True] * 5
    assert invoker.inline_state == "inline"


async def test_a_slow_call_in_the_pool_restarts_the_count(engine: Engine) -> None:
    def handler(delay: float) -> int:
        time.sleep(delay)
        return threading.get_ident()

    invoker = Invoker(handler, engine, route=ROUTE)
    await calls(invoker, 4, 0)
    await calls(invoker, 1, 0.04)
    await calls(invoker, 4, 0)
    assert invoker.inline_state == "pool"
    await calls(invoker, 1, 0)
    assert invoker.inline_state == "inline"


@smartasync
async def ask_the_loop() -> int:
    await asyncio.sleep(0)
    return 1


async def test_a_handler_waiting_for_the_loop_is_never_inline(engine: Engine) -> None:
    """Inline, `ask_the_loop()` would wait for the loop it blocks: pinned to the pool."""

    def handler() -> int:
        return ask_the_loop()  # type: ignore[no-any-return]

    invoker = Invoker(handler, engine, route=ROUTE)
    for _ in range(10):
        assert await invoker() == 1
    assert invoker.inline_state == "pinned"


async def test_a_handler_returning_an_awaitable_is_never_inline(engine: Engine) -> None:
    async def inner() -> str:
        return "awaited"

    def wrapper() -> object:
        return inner()  # a sync function giving an awaitable

    invoker = Invoker(wrapper, engine, route=ROUTE)
    for _ in range(10):
        assert await invoker() == "awaited"
    assert invoker.inline_state == "pinned"


async def test_only_auto_def_route_handlers_adapt(engine: Engine) -> None:
    assert Invoker(threading.get_ident, engine).inline_state is None  # not a route
    assert Invoker(threading.get_ident, engine, "thread", route=ROUTE).inline_state is None
    off = Engine(inline_threshold=None)
    assert Invoker(threading.get_ident, off, route=ROUTE).inline_state is None


async def test_exceptions_count_as_calls_and_propagate(engine: Engine) -> None:
    def handler() -> None:
        raise LookupError("nope")

    invoker = Invoker(handler, engine, route=ROUTE)
    for _ in range(7):
        with pytest.raises(LookupError):
            await invoker()
    assert invoker.inline_state == "inline"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"inline_threshold": 0},
        {"inline_threshold": -1.0},
        {"inline_after": 0},
        {"inline_stall_limit": 0},
        {"inline_threshold": 0.1, "inline_stall_limit": 0.05},
        {"block_threshold": 0},
        {"sync_queue_limit": -1},
        {"process_workers": 0},
        {"sync_workers": 0},
    ],
)
def test_settings_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        Engine(**kwargs)  # type: ignore[arg-type]
