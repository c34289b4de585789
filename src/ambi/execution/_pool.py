"""A bounded thread pool that hands results straight back to an asyncio loop."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ..exceptions import HTTPException
from ._classify import is_awaitable

_worker = threading.local()


_SCHED_BATCH: int | None = getattr(os, "SCHED_BATCH", None)  # Linux


def yield_on_wake() -> bool:
    """Put the calling thread under the scheduler's batch policy (Linux `SCHED_BATCH`):
    waking it no longer preempts the thread that woke it. True if that took effect.

    # PERF: the event loop wakes a worker for each job and for each `smartasync` result it
    # hands back (a lock release, `ambi.bridge._loops`). Under the default policy the woken
    # worker preempts the loop thread on the spot, only to block at once on the GIL the
    # loop holds: two context switches per wake-up, and on a busy machine the loop thread
    # waits for its next turn. A batch worker gets the CPU at the loop's next block or
    # tick instead; fairness between threads is unchanged (same weight). CPU per request of
    # a def route calling smartasync, in-process on uvloop, 64 in flight: 29-44 us before,
    # 20-25 after (the async twin: 8-10); benchmarks/bench_request.py --uvloop --cpu
    # --concurrency 64 "GET /bridge-sync" "GET /bridge-async", benchmarks/RESULTS.md.
    """
    if _SCHED_BATCH is None:
        return False
    try:
        os.sched_setscheduler(0, _SCHED_BATCH, os.sched_param(0))  # 0: this thread
    except OSError:  # not allowed here (a seccomp profile, say): keep the default policy
        return False
    return True


def current_worker_loop() -> asyncio.AbstractEventLoop | None:
    """The loop of the app whose worker thread this is, or None on any other thread."""
    loop: asyncio.AbstractEventLoop | None = getattr(_worker, "loop", None)
    return loop


def mark_worker(loop: asyncio.AbstractEventLoop | None) -> None:
    """Mark the current thread as a worker whose app runs on `loop` (None: unmark)."""
    _worker.loop = loop


def note_loop_use() -> None:
    """Called by the bridge when a worker thread waits for the app's loop: the function
    running there must never be promoted to run inline on that loop (it would deadlock)."""
    _worker.used_loop = True


def take_loop_use() -> bool:
    """Whether the current thread waited for its app's loop since the last call."""
    used = getattr(_worker, "used_loop", False)
    if used:
        _worker.used_loop = False
    return bool(used)


class AwaitOnLoop:
    """What a sync function run in the pool gave back when that was an awaitable: the
    pool awaits it on the loop, in the job's context, and settles the job with its result."""

    __slots__ = ("awaitable", "context")

    def __init__(self, awaitable: Any, context: contextvars.Context) -> None:
        self.awaitable = awaitable
        self.context = context


def call_sync(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """In a worker: call `fn`; an awaitable it gives is handed back to be awaited on the loop
    (a sync wrapper around an async function is sync: it ran here, its coroutine runs there)."""
    result = fn(*args, **kwargs)
    if is_awaitable(result):
        return AwaitOnLoop(result, contextvars.copy_context())
    return result


def _set_result(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _skip(fut: asyncio.Future[Any], outcome: Any) -> None:
    """A job skipped because its future was cancelled while it was queued."""


def _settle_awaitable(fut: asyncio.Future[Any], pending: AwaitOnLoop) -> None:
    awaitable = pending.awaitable
    if fut.done():  # the caller went away: do not start it
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()
        return
    coro = awaitable if asyncio.iscoroutine(awaitable) else _await_any(awaitable)
    task = fut.get_loop().create_task(coro, context=pending.context)

    def copy_outcome(done: asyncio.Task[Any]) -> None:
        if fut.done():
            return
        if done.cancelled():
            fut.cancel()
        elif (exc := done.exception()) is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(done.result())

    task.add_done_callback(copy_outcome)
    fut.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)


async def _await_any(awaitable: Any) -> Any:
    return await awaitable


_Job = tuple[asyncio.Future[Any], contextvars.Context, Callable[..., Any], tuple[Any, ...]]

#: Threads for cleanup work (`ThreadPool.submit_cleanup`), beside the pool's `max_workers`.
CLEANUP_WORKERS = 4


class _Lane:
    """A queue of jobs and the threads (started on demand, at most `max`) that take them."""

    __slots__ = ("idle", "jobs", "max", "name", "threads")

    def __init__(self, max_workers: int, name: str) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # PERF: one token per finished job, taken by a submit that can hand its job to an
        # idle worker: deque append/pop are atomic under the GIL, where a
        # threading.Semaphore takes a Condition and its lock twice per job (with the batch
        # policy: 64 in flight 6.0-10.4 -> 4.5-5.8 us a job, benchmarks/bench_pool.py).
        self.idle: collections.deque[None] = collections.deque()
        self.threads: list[threading.Thread] = []
        self.max = max_workers
        self.name = name


def shutting_down() -> HTTPException:
    """The error a request gets when the server stops before its job could run."""
    return HTTPException(503, "the server is shutting down", {"retry-after": "1"})


class ThreadPool:
    """At most `max_workers` threads, started on demand, bound to one event loop.

    # PERF: unlike `loop.run_in_executor`, a job carries the asyncio future itself, skipping
    # the concurrent.futures Future, its lock and the `wrap_future` callback chain; and
    # finished jobs are handed back in batches: a worker wakes the loop only when no wake-up
    # is pending, so under load one wake-up settles many futures (benchmarks/bench_pool.py).

    A job whose future was cancelled before a worker took it (its request timed out, or its
    client went away) is skipped. `queued` counts the jobs waiting for a thread; callers
    that must not queue without bound check `full` first (`queue_limit`).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        max_workers: int,
        name: str,
        queue_limit: int | None = None,
    ) -> None:
        self._loop = loop
        self._max = max_workers
        self._name = name
        self.queue_limit = queue_limit
        self._main = _Lane(max_workers, name)
        #: Cleanup work (a request's dependency exits) has threads of its own: it releases
        #: what the route jobs ahead of it in the main queue may be waiting for (a database
        #: connection, say), so it must never wait for them.
        self._cleanup = _Lane(CLEANUP_WORKERS, f"{name}-cleanup")
        self._jobs = self._main.jobs
        self._idle = self._main.idle
        self._threads = self._main.threads
        self._lock = threading.Lock()
        self._closed = False
        self._done: collections.deque[tuple[Callable[..., None], asyncio.Future[Any], Any]] = (
            collections.deque()
        )
        self._wake_pending = False
        #: futures of the jobs submitted and not yet settled (on the loop thread only)
        self._pending: set[asyncio.Future[Any]] = set()
        #: jobs that finished after their caller stopped waiting (timed out, went away)
        self.late_finished = 0
        self._drained: asyncio.Event | None = None
        #: jobs answered 503 by drain() because they had not finished in time
        self.abandoned = 0  # set when `_pending` empties, in drain()

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

    @property
    def idle(self) -> int:
        """Workers done with a job and not yet given another (approximate while they run)."""
        return len(self._idle)

    @property
    def queued(self) -> int:
        """Jobs waiting for a thread."""
        return self._jobs.qsize()

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet settled (queued or running)."""
        return len(self._pending)

    @property
    def full(self) -> bool:
        """Whether a new job would wait behind `queue_limit` others, every thread busy
        (never, without a limit)."""
        limit = self.queue_limit
        if limit is None:
            return False
        queued = self._jobs.qsize()
        return queued >= limit and len(self._pending) - queued >= self._max

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run `fn(*args)` in a worker with the caller's contextvars; await the result."""
        return self._put(self._main, fn, args)

    def submit_cleanup(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """`submit()` for work that releases what route jobs may wait for (a request's
        dependency cleanup): it runs on the pool's cleanup threads, never behind the main
        queue, so that 40 handlers waiting for a connection pool cannot starve the cleanups
        that would give the connections back."""
        return self._put(self._cleanup, fn, args)

    def _put(
        self, lane: _Lane, fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> asyncio.Future[Any]:
        if self._closed:
            raise shutting_down()
        fut = self._loop.create_future()
        self._pending.add(fut)
        lane.jobs.put((fut, contextvars.copy_context(), fn, args))
        try:
            lane.idle.pop()
        except IndexError:
            self._grow(lane)
        return fut

    def _grow(self, lane: _Lane) -> None:
        with self._lock:
            if len(lane.threads) >= lane.max:
                return
            thread = threading.Thread(
                target=self._work,
                args=(lane,),
                name=f"{lane.name}-{len(lane.threads)}",
                daemon=True,
            )
            lane.threads.append(thread)
        thread.start()

    def _settle_done(self) -> None:
        """On the loop: resolve every future finished since the last wake-up."""
        self._wake_pending = False  # first: a job finishing from now on wakes us again
        done = self._done
        pending = self._pending
        while done:
            settle, fut, outcome = done.popleft()
            pending.discard(fut)
            if settle is not _skip and fut.done():
                self.late_finished += 1
            settle(fut, outcome)
        if self._drained is not None and not pending:
            self._drained.set()

    def _work(self, lane: _Lane) -> None:
        loop = self._loop
        mark_worker(loop)
        yield_on_wake()
        idle = lane.idle.append
        jobs = lane.jobs
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
            if fut.cancelled():  # its caller stopped waiting while it was queued
                outcome, settle = None, _skip
            else:
                try:
                    outcome, settle = ctx.run(fn, *args), _set_result
                except BaseException as exc:  # handed to the awaiting task
                    outcome, settle = exc, _set_exception
                if type(outcome) is AwaitOnLoop:
                    settle = _settle_awaitable
            done.append((settle, fut, outcome))
            if not self._wake_pending:
                self._wake_pending = True
                try:  # noqa: SIM105 - PERF: cheaper than contextlib.suppress, once per job
                    call_soon(wake)
                except RuntimeError:  # the loop is closed: nobody is waiting any more
                    pass
            del job, fut, ctx, fn, args, outcome
            idle(None)

    async def drain(self, grace: float) -> bool:
        """On the loop: wait (up to `grace` s) until every job submitted has finished (jobs
        submitted meanwhile, say the next chunk of a streamed body, count too). Jobs still
        queued then are answered with a 503 (`shutting_down()`), and so are jobs still
        running, whose threads are left to end by themselves. True if all finished in time."""
        if self._pending:
            self._drained = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._drained.wait()
            self._drained = None
        return not self.abandon_pending()

    def abandon_pending(self) -> int:
        """Answer every job not yet settled with a 503 (`shutting_down()`); their threads,
        if they run, are left to finish. How many there were."""
        pending = len(self._pending)
        self.abandoned += pending
        for fut in list(self._pending):
            _set_exception(fut, shutting_down())
        self._pending.clear()
        return pending

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop taking jobs, let the queued ones finish; True if every thread ended in time."""
        self._closed = True
        self._main.jobs.put(None)
        self._cleanup.jobs.put(None)
        with self._lock:
            threads = [*self._main.threads, *self._cleanup.threads]
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)
