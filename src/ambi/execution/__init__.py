"""The hybrid execution engine: the one place that decides how a callable runs.

Every callable a user hands ambi (handler, dependency, hook, background task, exception
handler...) goes through `Invoker`, which classifies it once (`classify`) and then runs it
where it belongs: coroutines on the loop, blocking functions in the app's bounded thread
pool (with the caller's contextvars), CPU-bound ones in a process pool when asked for with
`run="process"`, and opted-in trivial ones inline.

Worker threads are marked with the loop of their app (`current_worker_loop`), so that
`ambi.bridge` can send coroutines from sync code back to that loop.
"""

from ._classify import (
    RUN_CHOICES,
    ExecutionKind,
    classify,
    is_async_callable,
    is_async_gen_callable,
    is_gen_callable,
)
from ._engine import Engine, Invoker, engine_for_loop
from ._pool import ThreadPool, current_worker_loop, mark_worker

__all__ = [
    "RUN_CHOICES",
    "Engine",
    "ExecutionKind",
    "Invoker",
    "ThreadPool",
    "classify",
    "current_worker_loop",
    "engine_for_loop",
    "is_async_callable",
    "is_async_gen_callable",
    "is_gen_callable",
    "mark_worker",
]
