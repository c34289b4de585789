"""The app task queue on a distributed engine (taskiq over Redis Streams or NATS JetStream).

The app process only sends: `add_task` / `submit` check the call, give it an id and put it
in a bounded local buffer (`max_queued`; full -> `QueueFull`, a 503); the app's loop writes
the `queued` status records and hands the messages to the taskiq broker in batches. Worker
processes (`ambi worker module:app`, see `_worker.py`) run them.

A task is named by its import path, `module:qualname`, and must be a module-level function
(anything else is refused at enqueue): the worker imports it. Arguments, keyword arguments
and results travel as JSON.

With `app.enable_tracing()`, a message carries the trace context of the code that queued
it (`trace`), and the worker runs it in a span that continues that trace (`ambi._spans`).

Delivery is at least once. A worker acknowledges a message only after the task ran and its
outcome was recorded (Redis: the final status and the acknowledgement in one MULTI/EXEC;
NATS: the status first). A status write that fails is tried again; if it keeps failing the
message stays unacknowledged, like that of a worker killed mid-task, and another worker
takes it over after `visibility_timeout` seconds (Redis: XAUTOCLAIM; NATS: the consumer's
`ack_wait`). So a task may run more than once (a worker killed after the task
but before the acknowledgement; a task running longer than `visibility_timeout`): make
tasks idempotent (e.g. key their effects by the task id, or check before acting), and set
`visibility_timeout` above your longest task. `delay` and the retry backoff are waited out
by the worker that holds the message, so `delay`, `max_backoff` and `timeout` must each fit
in `visibility_timeout` (checked when they are given).
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .._spans import context_headers
from ..bridge import smartasync
from ..exceptions import ConfigurationError, QueueClosed, QueueFull
from ._status import TaskOptions, TaskStatus, new_task_id, now, task_name

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.tasks")

#: the one taskiq task ambi registers; it imports and runs the task named in the message
TASKIQ_TASK = "ambi.run"
_SEND_BATCH = 256


def task_path(fn: Callable[..., Any]) -> str:
    """`module:qualname` of a module-level function, checked to import back to `fn`."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    name = qualname or repr(fn)
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise ConfigurationError(
            f"{name} cannot be sent to a worker: tasks for a distributed backend must be "
            "module-level functions in an importable module (not lambdas, nested functions, "
            "partials or functions of __main__)"
        )
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not fn:
        raise ConfigurationError(
            f"{module}:{qualname} does not import back to the function given: tasks for a "
            "distributed backend must be module-level functions"
        )
    return f"{module}:{qualname}"


def resolve(path: str) -> Callable[..., Any]:
    """The function named by `task_path`."""
    module, _, qualname = path.partition(":")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not callable(found):
        raise TypeError(f"{path} is not callable")
    return found  # type: ignore[no-any-return]


def check_fits(options: TaskOptions, visibility_timeout: float) -> None:
    """`delay`, `max_backoff` and `timeout` are waited out while a worker holds the
    message: each must fit in `visibility_timeout`, or another worker would take it over."""
    for name in ("delay", "timeout"):
        value = getattr(options, name)
        if value is not None and value >= visibility_timeout:
            raise ConfigurationError(
                f"{name}={value} s does not fit in visibility_timeout={visibility_timeout} s: "
                "another worker would run the task again meanwhile; raise visibility_timeout"
            )
    if options.max_retries and options.max_backoff >= visibility_timeout:
        raise ConfigurationError(
            f"max_backoff={options.max_backoff} s does not fit in "
            f"visibility_timeout={visibility_timeout} s; lower it or raise visibility_timeout"
        )


class DistributedQueue:
    """`app.tasks` with `backend="redis://..."` or `"nats://..."`."""

    def __init__(
        self,
        app: App,
        url: str,
        *,
        workers: int,
        max_queued: int,
        options: TaskOptions,
        shutdown_timeout: float,
        visibility_timeout: float,
        result_ttl: float,
        queue_name: str,
    ) -> None:
        from ._backends import backend_for

        self.backend = backend_for(url)
        if not self.backend:
            raise ConfigurationError(
                f"backend={url!r}: expected 'memory', a redis:// or a nats:// URL"
            )
        try:
            import taskiq  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "a distributed task backend needs taskiq: pip install 'ambi[tasks]'"
            ) from None
        if visibility_timeout <= 0 or result_ttl <= 0:
            raise ConfigurationError("visibility_timeout and result_ttl must be > 0 seconds")
        check_fits(options, visibility_timeout)
        self.app = app
        self.url = url
        self.workers = workers
        self.max_queued = max_queued
        self.options = options
        self.shutdown_timeout = shutdown_timeout
        self.visibility_timeout = visibility_timeout
        self.result_ttl = result_ttl
        self.queue_name = queue_name
        self.broker: Any = None
        self.store: Any = None
        self._lock = threading.Lock()
        self._pending: collections.deque[dict[str, Any]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sender: asyncio.Task[None] | None = None
        self._closed = False
        # `flush`: messages are sent in the order they were submitted (a failed batch goes
        # back to the front), so "the first `_sent` submitted are with the broker".
        self._submitted = 0
        self._sent = 0
        self._flushers: list[tuple[int, asyncio.Future[None]]] = []
        #: sent to the broker by this process; and, in a worker, tasks running and ended
        #: ("running", "done", "failed", "retried")
        self.counts: collections.Counter[str] = collections.Counter()

    def stats(self) -> dict[str, Any]:
        """Counts of this process for `app.metrics()`: an app process sends (`queued`:
        waiting here to be sent), a worker runs. What waits in the broker is not counted
        (it would take a round trip per snapshot)."""
        return {
            "backend": self.backend,
            "workers": self.workers,
            "queued": len(self._pending),
            **{k: self.counts[k] for k in ("sent", "running", "done", "failed", "retried")},
        }

    # Enqueueing (any thread) ---------------------------------------------------------------

    def add_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> str:
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
        """Send `fn(*args, **kwargs)` to the workers; return its id. `QueueFull` (503)
        when `max_queued` messages wait to be sent, `QueueClosed` after shutdown."""
        options = self.options.merged(delay, max_retries, timeout)
        if options is not self.options:
            check_fits(options, self.visibility_timeout)
        path = task_path(fn)
        call = {"path": path, "args": list(args), "kwargs": dict(kwargs or {})}
        try:
            orjson.dumps(call)
        except TypeError as exc:
            raise ConfigurationError(
                f"the arguments of {path} cannot be sent to a worker as JSON: {exc}"
            ) from None
        enqueued = now()
        message = {
            "id": new_task_id(),
            "name": task_name(fn),
            **call,
            "eta": enqueued + options.delay,
            "max_retries": options.max_retries,
            "timeout": options.timeout,
            "backoff": options.backoff,
            "max_backoff": options.max_backoff,
            "attempt": 1,
            "enqueued_at": enqueued,
        }
        if self.app.engine.tracer is not None:  # app.enable_tracing(): for the worker's span
            message["trace"] = context_headers()
        with self._lock:
            if self._closed:
                raise QueueClosed("the task queue is shut down")
            if len(self._pending) >= self.max_queued:
                raise QueueFull(
                    f"the task queue is full ({self.max_queued} tasks waiting to be sent)"
                )
            self._pending.append(message)
            self._submitted += 1
            loop = self._loop
            wake = loop is not None and self._sender is None
            if wake:
                self._sender = _STARTING
        if wake and loop is not None:
            if asyncio._get_running_loop() is loop:
                self._start_sender()
            else:
                loop.call_soon_threadsafe(self._start_sender)
        return str(message["id"])

    # Sending (on the app's loop) -----------------------------------------------------------

    def _start_sender(self) -> None:
        loop = self._loop
        if loop is not None:
            self._sender = loop.create_task(self._send_pending())

    async def _send_pending(self) -> None:
        """Send what is pending, in batches, until nothing is; then end (no idle loop)."""
        while True:
            with self._lock:
                batch = [
                    self._pending.popleft() for _ in range(min(_SEND_BATCH, len(self._pending)))
                ]
                if not batch:
                    self._sender = None
                    return
            try:
                await self._send(batch)
                self.counts["sent"] += len(batch)
            except Exception:
                logger.exception("could not send %d task(s); retrying in 1 s", len(batch))
                with self._lock:
                    self._pending.extendleft(reversed(batch))
                await asyncio.sleep(1.0)
            else:
                with self._lock:
                    self._sent += len(batch)
                self._wake_flushers()

    async def _send(self, batch: list[dict[str, Any]]) -> None:
        records = [queued_status(m) for m in batch]
        payloads = [self._broker_message(m) for m in batch]
        send = getattr(self.store, "send", None)
        # PERF: Redis: the `queued` records and the messages in one pipelined round trip
        # per batch of 256 (bench_tasks.py, RESULTS.md)
        if send is not None:
            await send(records, [p.message for p in payloads], self.broker.queue_name)
            return
        await self.store.put(records)
        await asyncio.gather(*(self.broker.kick(p) for p in payloads))

    def _broker_message(self, message: dict[str, Any]) -> Any:
        from taskiq.message import TaskiqMessage

        return self.broker.formatter.dumps(
            TaskiqMessage(
                task_id=message["id"],
                task_name=TASKIQ_TASK,
                labels={},
                labels_types={},
                args=[message],
                kwargs={},
            )
        )

    async def kick(self, message: dict[str, Any]) -> None:
        """Hand one message to the broker (also used by workers to retry)."""
        await self.broker.kick(self._broker_message(message))

    def _wake_flushers(self, error: BaseException | None = None) -> None:
        waiting, self._flushers = self._flushers, []
        for upto, waiter in waiting:
            if waiter.done():
                continue
            if upto <= self._sent:
                waiter.set_result(None)
            elif error is not None:
                waiter.set_exception(error)
            else:
                self._flushers.append((upto, waiter))

    @smartasync
    async def flush(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - one spelling for sync and async callers
        """Wait until every task submitted before this call is with the broker (Redis or
        NATS): from then on it survives this process dying. A handler that answers "queued"
        awaits this first. `TimeoutError` after `timeout` seconds; `QueueClosed` if the
        app shuts down before they could be sent."""
        loop = self._loop
        if loop is None:
            raise QueueClosed("the task queue is not running")
        if asyncio.get_running_loop() is not loop:
            raise RuntimeError("flush() runs on the app's loop (a sync caller: a plain call)")
        with self._lock:
            upto = self._submitted
            if upto <= self._sent:
                return
        waiter = loop.create_future()
        self._flushers.append((upto, waiter))
        async with asyncio.timeout(timeout):
            await waiter

    # Status -------------------------------------------------------------------------------

    @smartasync
    async def status(self, task_id: str) -> TaskStatus | None:
        """The status of `task_id` as any process last wrote it; None if unknown/expired."""
        return await self.store.get(task_id)  # type: ignore[no-any-return]

    @smartasync
    async def wait(self, task_id: str, timeout: float | None = None) -> TaskStatus:  # noqa: ASYNC109 - one spelling for sync and async callers
        """Wait until `task_id` is done or failed (reading its status every 50 ms, up to
        every 1 s); `TimeoutError` after `timeout` seconds."""
        pause = 0.05
        async with asyncio.timeout(timeout):
            while True:
                status = await self.store.get(task_id)
                if status is not None and status.finished:
                    return status  # type: ignore[no-any-return]
                await asyncio.sleep(pause)
                pause = min(1.0, pause * 1.5)

    @smartasync
    async def failed(self) -> list[dict[str, Any]]:
        """Every task that failed after its retries, with its call (path, args, kwargs),
        oldest first; kept until removed from the store."""
        return await self.store.failed()  # type: ignore[no-any-return]

    # Lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        from ._backends import make_backend

        self.broker, self.store = make_backend(
            self.url, self.queue_name, self.visibility_timeout, self.result_ttl
        )
        from ._worker import register

        register(self)
        await self.broker.startup()
        await self.store.start()
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._closed = False
            pending = bool(self._pending)
            if pending:
                self._sender = _STARTING
        if pending:
            self._start_sender()

    async def shutdown(self) -> None:
        """Send what is pending (for up to `shutdown_timeout` s), log by id what could not
        be sent, and close the connections."""
        with self._lock:
            self._closed = True
        sender = self._sender
        if isinstance(sender, asyncio.Task):
            done, _ = await asyncio.wait((sender,), timeout=self.shutdown_timeout)
            if not done:
                sender.cancel()
        with self._lock:
            unsent, self._pending = list(self._pending), collections.deque()
            self._loop = None
            self._sender = None
        self._wake_flushers(QueueClosed("the app shut down before the tasks were sent"))
        for message in unsent:
            logger.warning(
                "task %s (%s) was never sent to the workers: the app shut down first",
                message["id"],
                message["name"],
            )
        await self.broker.shutdown()
        await self.store.close()


_STARTING: Any = object()  # `_sender` while a sender task is being started


def queued_status(message: dict[str, Any], **changes: Any) -> TaskStatus:
    record = TaskStatus(
        id=message["id"],
        name=message["name"],
        state="queued",
        attempts=message["attempt"] - 1,
        enqueued_at=message["enqueued_at"],
    )
    return TaskStatus.from_dict({**record.to_dict(), **changes}) if changes else record
