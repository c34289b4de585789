"""The in-process app task queue: bounded, timer-driven, and idle when idle.

A task is admitted by `submit` from any thread (a sync handler in the pool, async code on
the loop, a script), then everything else happens on the app's loop: a delayed task waits
on a loop timer (`call_later`), a ready one starts when fewer than `workers` run, and a
finished one starts the next. There is no polling loop: with nothing to do, the queue owns
no timer and no thread, and costs no CPU (measured in benchmarks/bench_tasks.py).

Each task runs through `ambi.execution.Invoker`: `async def` on the loop, `def` in the app's
thread pool. A timeout cancels an async task; a sync one cannot be stopped (Python threads
cannot be killed), so it is marked failed at its deadline but keeps its worker slot until it
returns, which keeps "at most `workers` at once" true.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from .._spans import parent_context, traced_task
from ..bridge import smartasync
from ..exceptions import QueueClosed, QueueFull
from ..execution import Engine, ExecutionKind, Invoker
from ._status import (
    TaskOptions,
    TaskStatus,
    backoff_delay,
    describe_error,
    new_task_id,
    now,
    task_name,
)

logger = logging.getLogger("ambi.tasks")

_get_running_loop = asyncio._get_running_loop


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Task:
    """A task's mutable record; `TaskStatus` is its snapshot."""

    __slots__ = (
        "args",
        "attempts",
        "enqueued_at",
        "error",
        "finished_at",
        "id",
        "invoker",
        "kwargs",
        "name",
        "options",
        "result",
        "started_at",
        "state",
        "timer",
        "trace",
        "waiters",
    )

    def __init__(
        self,
        invoker: Invoker,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: TaskOptions,
        name: str,
    ) -> None:
        self.id = new_task_id()
        self.invoker = invoker
        self.args = args
        self.kwargs = kwargs
        self.options = options
        self.name = name
        self.state = "queued"
        self.attempts = 0
        self.result: Any = None
        self.error: str | None = None
        self.enqueued_at = now()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.waiters: list[asyncio.Future[None]] = []
        #: the OpenTelemetry context it was queued in (with `app.enable_tracing()` only)
        self.trace: Any = None

    def snapshot(self) -> TaskStatus:
        return TaskStatus(
            id=self.id,
            name=self.name,
            state=self.state,  # type: ignore[arg-type]
            attempts=self.attempts,
            result=self.result,
            error=self.error,
            enqueued_at=self.enqueued_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )


class TaskQueue:
    """The app's task queue, in this process (`app.tasks` after
    `app.enable_background_tasks()`)."""

    backend = "memory"

    def __init__(
        self,
        engine: Engine,
        *,
        workers: int,
        max_queued: int,
        options: TaskOptions,
        keep_results: int,
        shutdown_timeout: float,
    ) -> None:
        self.engine = engine
        self.workers = workers
        self.max_queued = max_queued
        self.options = options
        self.keep_results = keep_results
        self.shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        self._tasks: dict[str, _Task] = {}
        self._finished: collections.deque[str] = collections.deque()
        self._waiting = 0  # admitted, not started: what `max_queued` bounds
        self._ready: collections.deque[_Task] = collections.deque()
        self._early: list[_Task] = []  # submitted before startup
        self._running: dict[_Task, asyncio.Future[Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: tasks ended: done, failed (after their retries), and attempts retried
        self.done = self.failed = self.retried = 0

    def stats(self) -> dict[str, Any]:
        """Counts for `app.metrics()`: waiting (delayed, ready or between attempts),
        running now, and ended so far."""
        return {
            "backend": self.backend,
            "workers": self.workers,
            "queued": self._waiting,
            "running": len(self._running),
            "done": self.done,
            "failed": self.failed,
            "retried": self.retried,
        }

    # Admission (any thread) ---------------------------------------------------------------

    def add_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> str:
        """Queue `fn(*args, **kwargs)` with the queue's default options; return its id."""
        return self.submit(fn, args, kwargs)

    def submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        delay: float | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
    ) -> str:
        """Queue `fn(*args, **kwargs)` with per-task options; return its id.

        Raises `QueueFull` (an HTTP 503) when `max_queued` tasks already wait, and
        `QueueClosed` (503) once the app has shut down.
        """
        options = self.options.merged(delay, max_retries, timeout)
        task = _Task(Invoker(fn, self.engine), tuple(args), dict(kwargs or {}), options, "")
        task.name = task_name(fn)
        if self.engine.tracer is not None:  # app.enable_tracing(): a span under the caller's
            task.trace = parent_context()
        with self._lock:
            if self._closed:
                raise QueueClosed("the task queue is shut down")
            if self._waiting >= self.max_queued:
                raise QueueFull(f"the task queue is full ({self.max_queued} tasks waiting)")
            self._waiting += 1
            self._tasks[task.id] = task
            loop = self._loop
            if loop is None:
                self._early.append(task)
                return task.id
        if _get_running_loop() is loop:
            self._arrive(task)
        else:
            loop.call_soon_threadsafe(self._arrive, task)
        return task.id

    # Status -------------------------------------------------------------------------------

    def get(self, task_id: str) -> TaskStatus | None:
        """The status of `task_id` (None if unknown or forgotten), from any thread."""
        task = self._tasks.get(task_id)
        return None if task is None else task.snapshot()

    @smartasync
    async def status(self, task_id: str) -> TaskStatus | None:
        """The status of `task_id`, None if unknown (or dropped after `keep_results` newer
        finished tasks). `await` it in async code; sync code gets the value directly."""
        return self.get(task_id)

    @smartasync
    async def wait(self, task_id: str, timeout: float | None = None) -> TaskStatus:  # noqa: ASYNC109 - one spelling for sync and async callers
        """Wait until `task_id` is done or failed; `TimeoutError` after `timeout` seconds.
        Works from any thread and loop."""
        task = self._tasks.get(task_id)
        if task is None:
            raise KeyError(task_id)
        waiter = asyncio.get_running_loop().create_future()
        with self._lock:
            if task.state in ("done", "failed"):
                return task.snapshot()
            task.waiters.append(waiter)
        async with asyncio.timeout(timeout):
            await waiter
        return task.snapshot()

    @smartasync
    async def flush(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - one spelling for sync and async callers
        """Nothing to wait for: a task is in this process's queue when `submit` returns
        (see the distributed queue's `flush`; the same code runs on either queue)."""

    # On the loop --------------------------------------------------------------------------

    def _arrive(self, task: _Task) -> None:
        if self._loop is None:  # admitted just before a shutdown that has ended since
            self._not_run(task)
        elif task.options.delay > 0:
            task.timer = self._loop.call_later(task.options.delay, self._make_ready, task)
        else:
            self._make_ready(task)

    def _loop_or_raise(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the task queue is not started")
        return self._loop

    def _make_ready(self, task: _Task) -> None:
        task.timer = None
        if len(self._running) < self.workers:
            self._start(task)
        else:
            self._ready.append(task)

    def _start(self, task: _Task) -> None:
        with self._lock:
            self._waiting -= 1
        task.state = "running"
        task.attempts += 1
        task.started_at = now()
        task.finished_at = None
        if self.engine.tracer is None:
            call = asyncio.ensure_future(task.invoker(*task.args, **task.kwargs))
        else:
            call = asyncio.ensure_future(self._traced(task))
        self._running[task] = call
        self._loop_or_raise().create_task(self._supervise(task, call))

    def _traced(self, task: _Task) -> Awaitable[Any]:
        args, kwargs = task.args, task.kwargs
        return traced_task(
            self.engine.tracer,
            f"task {task.name}",
            task.trace,
            {"ambi.task.id": task.id, "ambi.task.attempt": task.attempts},
            lambda: task.invoker(*args, **kwargs),
        )

    async def _supervise(self, task: _Task, call: asyncio.Future[Any]) -> None:
        try:
            done, _ = await asyncio.wait((call,), timeout=task.options.timeout)
            if done:
                self._settle(task, call)
                return
            if task.invoker.kind is not ExecutionKind.THREAD:
                call.cancel()
            self._settle(task, call, timed_out=True)
            # A sync task's thread cannot be stopped: its slot stays taken until it returns.
            with contextlib.suppress(BaseException):
                await call
        finally:
            del self._running[task]
            if self._ready:
                self._start(self._ready.popleft())

    def _settle(self, task: _Task, call: asyncio.Future[Any], timed_out: bool = False) -> None:
        task.finished_at = now()
        error: BaseException | None
        if timed_out:
            error = TimeoutError(f"ran over its timeout of {task.options.timeout} s")
        elif call.cancelled():
            error = asyncio.CancelledError("cancelled")
        else:
            error = call.exception()
        if error is None:
            task.result, task.error = call.result(), None
            self.done += 1
            self._finish(task, "done")
            return
        task.error = describe_error(error)
        if task.attempts <= task.options.max_retries and not self._closed:
            wait = backoff_delay(task.attempts, task.options.backoff, task.options.max_backoff)
            logger.warning(
                "task %s (%s) failed (attempt %d of %d), retrying in %.2f s: %s",
                task.id,
                task.name,
                task.attempts,
                task.options.max_retries + 1,
                wait,
                task.error,
            )
            task.state = "queued"
            self.retried += 1
            with self._lock:
                self._waiting += 1
            task.timer = self._loop_or_raise().call_later(wait, self._make_ready, task)
            return
        self.failed += 1
        logger.error(
            "task %s (%s) failed after %d attempt(s)",
            task.id,
            task.name,
            task.attempts,
            exc_info=error if not timed_out else None,
        )
        self._finish(task, "failed")

    def _finish(self, task: _Task, state: str) -> None:
        """Mark `task` ended and drop the oldest results past `keep_results`, all under
        the lock that `wait()` checks the state under, then wake its waiters: a waiter
        never sees the task ended before the results it displaced are gone."""
        task.args, task.kwargs = (), {}  # what it was called with may be large: drop it
        with self._lock:
            task.state = state
            finished = self._finished
            finished.append(task.id)
            while len(finished) > self.keep_results:
                self._tasks.pop(finished.popleft(), None)
            waiters, task.waiters = task.waiters, []
        for waiter in waiters:
            waiter.get_loop().call_soon_threadsafe(_wake, waiter)

    # Lifecycle (startup / shutdown hooks of the app) ----------------------------------------

    async def start(self) -> None:
        """Bind to the running loop and start what was queued before startup."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop = loop
            self._closed = False
            early, self._early = self._early, []
        for task in early:
            self._arrive(task)

    async def shutdown(self) -> None:
        """Stop taking tasks; let running and ready ones finish for up to `shutdown_timeout`
        seconds; log by id every queued task that did not run; cancel what still runs."""
        with self._lock:
            self._closed = True
            early, self._early = self._early, []
        not_run = list(early)
        for task in list(self._tasks.values()):
            if task.timer is not None:  # delayed, or waiting to retry: its time has not come
                task.timer.cancel()
                task.timer = None
                not_run.append(task)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.shutdown_timeout
        while self._running and loop.time() < deadline:
            await asyncio.wait(list(self._running.values()), timeout=deadline - loop.time())
            await asyncio.sleep(0)  # let the supervisors start what was ready
        not_run.extend(self._ready)
        self._ready.clear()
        for task in not_run:
            self._not_run(task)
        cancelled = []
        for task, call in list(self._running.items()):
            logger.warning(
                "task %s (%s) still running at shutdown after %.1f s: %s",
                task.id,
                task.name,
                self.shutdown_timeout,
                "abandoned (a thread cannot be stopped)"
                if task.invoker.kind is ExecutionKind.THREAD
                else "cancelled",
            )
            if task.invoker.kind is not ExecutionKind.THREAD:
                call.cancel()
                cancelled.append(call)
        if cancelled:  # let their supervisors record them as failed
            await asyncio.wait(cancelled, timeout=1.0)
            await asyncio.sleep(0)
        with self._lock:
            self._waiting = 0
            self._loop = None

    def _not_run(self, task: _Task) -> None:
        task.error = "not run: the app shut down first"
        self.failed += 1
        logger.warning(
            "task %s (%s) was queued and did not run: the app shut down", task.id, task.name
        )
        self._finish(task, "failed")
