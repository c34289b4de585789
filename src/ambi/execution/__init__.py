"""The hybrid execution engine: the one place that decides how a callable runs.

Every callable a user hands ambi (handler, dependency, hook, lifespan, background task,
exception handler, streamed body...) goes through here. `Invoker` classifies it once
(`classify`, `shape_of`: the outermost callable decides) and then runs it where it
belongs: coroutines on the loop, blocking functions in the app's bounded thread pool (with
the caller's contextvars; an awaitable they return is awaited on the loop), CPU-bound ones
in a spawned process pool with `run="process"`, and trivial ones inline: opted in with
`run="inline"`, or adaptively for `def` route handlers (`Engine(inline_threshold=...)`).
`Invoker.enter()` runs context managers and yield-once generators, and `iterate()` sync or
async iterables, each step where it belongs.

The `Engine` owns the pools, the loop-blocking watchdog and their counters
(`engine.stats`). Route limits (`timeout=`, `max_concurrency=`) are pipeline stages made
by `LIMIT_STAGES`.

Worker threads are marked with the loop of their app (`current_worker_loop`), so that
`ambi.bridge` can send coroutines from sync code back to that loop.
"""

from ._classify import (
    RUN_CHOICES,
    SHAPE_ATTRIBUTE,
    ExecutionKind,
    Shape,
    classify,
    is_async_code,
    is_async_context,
    is_async_iterable,
    is_async_iterator,
    is_awaitable,
    is_context,
    shape_of,
)
from ._contexts import iterate
from ._engine import Engine, EngineStats, engine_for_loop
from ._invoker import Invoker
from ._limits import LIMIT_STAGES, concurrency_stage, timeout_stage
from ._pool import ThreadPool, call_sync, current_worker_loop, mark_worker, note_loop_use
from ._processes import ProcessPool
from ._watchdog import LoopBlock, RunningRoute, Watchdog, running_route

__all__ = [
    "LIMIT_STAGES",
    "RUN_CHOICES",
    "SHAPE_ATTRIBUTE",
    "Engine",
    "EngineStats",
    "ExecutionKind",
    "Invoker",
    "LoopBlock",
    "ProcessPool",
    "RunningRoute",
    "Shape",
    "ThreadPool",
    "Watchdog",
    "call_sync",
    "classify",
    "concurrency_stage",
    "current_worker_loop",
    "engine_for_loop",
    "is_async_code",
    "is_async_context",
    "is_async_iterable",
    "is_async_iterator",
    "is_awaitable",
    "is_context",
    "iterate",
    "mark_worker",
    "note_loop_use",
    "running_route",
    "shape_of",
    "timeout_stage",
]
