"""A bounded thread pool that hands results straight back to an asyncio loop."""

from __future__ import annotations

import asyncio
import collections
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

_worker = threading.local()


def current_worker_loop() -> asyncio.AbstractEventLoop | None:
    """The loop of the app whose worker thread this is, or None on any other thread."""
    loop: asyncio.AbstractEventLoop | None = getattr(_worker, "loop", None)
    return loop


def mark_worker(loop: asyncio.AbstractEventLoop | None) -> None:
    """Mark the current thread as a worker whose app runs on `loop` (None: unmark)."""
    _worker.loop = loop


def _set_result(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


_Job = tuple[asyncio.Future[Any], contextvars.Context, Callable[..., Any], tuple[Any, ...]]


class ThreadPool:
    """At most `max_workers` threads, started on demand, bound to one event loop.

    # PERF: unlike `loop.run_in_executor`, a job carries the asyncio future itself, skipping
    # the concurrent.futures Future, its lock and the `wrap_future` callback chain; and
    # finished jobs are handed back in batches: a worker wakes the loop only when no wake-up
    # is pending, so under load one wake-up settles many futures (benchmarks/bench_pool.py).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, max_workers: int, name: str) -> None:
        self._loop = loop
        self._max = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._done: collections.deque[tuple[Callable[..., None], asyncio.Future[Any], Any]] = (
            collections.deque()
        )
        self._wake_pending = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop whose futures this pool resolves."""
        return self._loop

    @property
    def size(self) -> int:
        """Threads started so far."""
        return len(self._threads)

    @property
    def max_workers(self) -> int:
        return self._max

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run `fn(*args)` in a worker with the caller's contextvars; await the result."""
        if self._closed:
            raise RuntimeError("the thread pool is shut down")
        fut = self._loop.create_future()
        self._jobs.put((fut, contextvars.copy_context(), fn, args))
        if not self._idle.acquire(blocking=False):
            self._grow()
        return fut

    def _grow(self) -> None:
        with self._lock:
            if len(self._threads) >= self._max:
                return
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
        thread.start()

    def _settle_done(self) -> None:
        """On the loop: resolve every future finished since the last wake-up."""
        self._wake_pending = False  # first: a job finishing from now on wakes us again
        done = self._done
        while done:
            settle, fut, outcome = done.popleft()
            settle(fut, outcome)

    def _work(self) -> None:
        loop = self._loop
        mark_worker(loop)
        jobs = self._jobs
        done = self._done
        call_soon = loop.call_soon_threadsafe
        wake = self._settle_done
        while True:
            job = jobs.get()
            if job is None:
                jobs.put(None)  # wake the next worker too
                return
            fut, ctx, fn, args = job
            settle: Callable[[asyncio.Future[Any], Any], None]
            try:
                outcome, settle = ctx.run(fn, *args), _set_result
            except BaseException as exc:  # handed to the awaiting task
                outcome, settle = exc, _set_exception
            done.append((settle, fut, outcome))
            if not self._wake_pending:
                self._wake_pending = True
                try:  # noqa: SIM105 - PERF: cheaper than contextlib.suppress, once per job
                    call_soon(wake)
                except RuntimeError:  # the loop is closed: nobody is waiting any more
                    pass
            del job, fut, ctx, fn, args, outcome
            self._idle.release()

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop taking jobs, let the queued ones finish; True if every thread ended in time."""
        self._closed = True
        self._jobs.put(None)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)
