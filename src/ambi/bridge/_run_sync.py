"""The other direction: blocking code from async code, on a thread marked as a worker."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ..execution import call_sync, current_worker_loop, engine_for_loop, is_awaitable, mark_worker

P = ParamSpec("P")
T = TypeVar("T")
_copy_context = contextvars.copy_context


class _DefaultPool:
    """The thread pool `run_sync` uses outside an ambi app, made on first use."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def get(self) -> concurrent.futures.ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._lock:
                pool = self._pool
                if pool is None:
                    pool = self._pool = concurrent.futures.ThreadPoolExecutor(
                        thread_name_prefix="ambi-run-sync"
                    )
        return pool

    def forget(self) -> None:
        """After a fork: the pool's threads did not come along."""
        self._pool = None
        self._lock = threading.Lock()


_default_pool = _DefaultPool()


def _run_marked(
    loop: asyncio.AbstractEventLoop,
    ctx: contextvars.Context,
    fn: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> T:
    """In a default-pool thread: run `fn` as a worker of `loop`, so case 1 applies inside."""
    previous = current_worker_loop()
    mark_worker(loop)
    try:
        return ctx.run(fn, *args, **kwargs)
    finally:
        mark_worker(previous)


async def run_sync(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking `fn(*args, **kwargs)` in a thread and await its result.

    Inside an ambi app: in the app's thread pool. Elsewhere: in a default pool. Either way
    the thread is marked as a worker of the calling loop, so a `smartasync` call inside
    `fn` runs on that loop (case 1), and the caller's contextvars flow in. An awaitable
    `fn` returns (a sync wrapper around an async function) is awaited on the loop.
    """
    loop = asyncio.get_running_loop()
    engine = engine_for_loop(loop)
    if engine is not None:
        result: T = await engine.run_in_thread(call_sync, fn, args, kwargs)
        return result
    ctx = _copy_context()
    result = await loop.run_in_executor(
        _default_pool.get(), _run_marked, loop, ctx, fn, args, kwargs
    )
    if is_awaitable(result):
        awaited: T = await result  # type: ignore[misc]
        return awaited
    return result


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default_pool.forget)
