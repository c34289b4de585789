"""The worker side of the distributed queue: `ambi worker module:app`.

A worker process imports the app, starts it (its startup hooks run: tasks may use what they
set up), and runs a taskiq `Receiver` on the app's broker with at most `workers` tasks at
once. Each message names a task by import path; it runs through `ambi.execution.Invoker`
like everything else (`async def` on the loop, `def` in the app's thread pool), its status
is written, and only then is the message acknowledged (taskiq's manual acknowledgement,
in `finish`: a status that cannot be written leaves it unacknowledged, to run again).
SIGINT / SIGTERM stop taking messages and wait up to `shutdown_timeout` for the running
ones; a message whose task did not finish stays unacknowledged and is redelivered to
another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from taskiq import Context, TaskiqDepends  # module-level: taskiq reads the hints of `run`

from .._spans import traced_worker_run
from ..exceptions import ConfigurationError
from ..execution import ExecutionKind, Invoker
from ._distributed import TASKIQ_TASK, DistributedQueue, queued_status, resolve
from ._status import TaskStatus, backoff_delay, describe_error, now

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.tasks")

Ack = Callable[[], Awaitable[None]]

#: Tries of a task's final status write (with its acknowledgement), and the first pause.
WRITE_ATTEMPTS = 3
WRITE_BACKOFF = 0.2


def register(queue: DistributedQueue) -> None:
    """Register the one taskiq task that runs every ambi task, on `queue.broker`. Workers
    acknowledge by hand (`serve` sets `AcknowledgeType.MANUAL`): only once the outcome is
    recorded."""
    invokers: dict[str, Invoker] = {}

    async def run(
        message: dict[str, Any],
        context: Context = TaskiqDepends(),  # noqa: B008 - taskiq's dependency marker
    ) -> None:
        counts = queue.counts
        counts["running"] += 1
        try:
            await execute(queue, invokers, message, context.ack)
        finally:
            counts["running"] -= 1

    queue.broker.register_task(run, task_name=TASKIQ_TASK)


async def _call(invoker: Invoker, message: dict[str, Any]) -> Any:
    call = asyncio.ensure_future(invoker(*message["args"], **message["kwargs"]))
    done, _ = await asyncio.wait((call,), timeout=message["timeout"])
    if done:
        return call.result()
    if invoker.kind is not ExecutionKind.THREAD:
        call.cancel()
        with contextlib.suppress(BaseException):
            await call
    raise TimeoutError(f"ran over its timeout of {message['timeout']} s")


async def finish(
    queue: DistributedQueue, message: dict[str, Any], records: list[TaskStatus], ack: Ack
) -> None:
    """Record `records` and acknowledge the message: the acknowledgement only if the
    records are written (Redis: one MULTI/EXEC; NATS: the KV write first). A failed write
    is tried again `WRITE_ATTEMPTS` times; if it still fails, the message stays
    unacknowledged and is delivered again after `visibility_timeout` (the task runs again:
    at least once), and the error propagates (taskiq logs it)."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            await queue.store.finish(records, ack)
            return
        except Exception as exc:
            if attempt == WRITE_ATTEMPTS:
                logger.error(
                    "task %s (%s): its status could not be recorded (%s); the message is "
                    "left unacknowledged and will be delivered again",
                    message["id"],
                    message["name"],
                    describe_error(exc),
                )
                raise
            await asyncio.sleep(WRITE_BACKOFF * 2 ** (attempt - 1))


async def _best_effort(write: asyncio.Future[None], message: dict[str, Any]) -> None:
    """The `running` record: informative only, a failure must not fail the task."""
    try:
        await write
    except Exception as exc:
        logger.warning(
            "task %s (%s): its running status could not be written: %s",
            message["id"],
            message["name"],
            describe_error(exc),
        )


async def execute(
    queue: DistributedQueue, invokers: dict[str, Invoker], message: dict[str, Any], ack: Ack
) -> None:
    """Run one delivery of a task, record what happened, then acknowledge it (in a span
    of its own with `app.enable_tracing()`)."""
    wait = message["eta"] - now()
    if wait > 0:  # delayed, or backing off before a retry
        await asyncio.sleep(wait)
    tracer = queue.app.engine.tracer
    if tracer is None:
        await _run(queue, invokers, message, ack)
    else:
        await traced_worker_run(tracer, message, lambda: _run(queue, invokers, message, ack))


async def _run(
    queue: DistributedQueue, invokers: dict[str, Invoker], message: dict[str, Any], ack: Ack
) -> tuple[str, Exception | None]:
    """Run the task, record its outcome and acknowledge it: the outcome ("done",
    "retried" or "failed") and the task's exception."""
    started = now()
    status = TaskStatus(
        id=message["id"],
        name=message["name"],
        state="running",
        attempts=message["attempt"],
        enqueued_at=message["enqueued_at"],
        started_at=started,
    )
    # PERF: the task starts while its `running` status is written (one round trip less
    # per task); the final status is written only after it (so they stay in order).
    running = asyncio.ensure_future(queue.store.put([status]))
    try:
        invoker = invokers.get(message["path"])
        if invoker is None:
            invoker = invokers[message["path"]] = Invoker(
                resolve(message["path"]), queue.app.engine
            )
        result = await _call(invoker, message)
        orjson.dumps(result)  # refuse a result no other process could read
    except Exception as exc:
        await _best_effort(running, message)
        return await _failed(queue, message, status, exc, ack), exc
    await _best_effort(running, message)
    done = TaskStatus(
        **{**status.to_dict(), "state": "done", "result": result, "finished_at": now()}
    )
    await finish(queue, message, [done], ack)
    queue.counts["done"] += 1
    return "done", None


async def _failed(
    queue: DistributedQueue,
    message: dict[str, Any],
    status: TaskStatus,
    exc: Exception,
    ack: Ack,
) -> str:
    """Record a failed run: "retried" (sent again) or "failed" (no retries left)."""
    error = describe_error(exc)
    attempt = message["attempt"]
    if attempt <= message["max_retries"]:
        pause = backoff_delay(attempt, message["backoff"], message["max_backoff"])
        logger.warning(
            "task %s (%s) failed (attempt %d of %d), retrying in %.2f s: %s",
            message["id"],
            message["name"],
            attempt,
            message["max_retries"] + 1,
            pause,
            error,
        )
        retry = {**message, "attempt": attempt + 1, "eta": now() + pause}
        # the next attempt is sent before this one is acknowledged: a failure in between
        # delivers this one again (two attempts run; none is lost)
        await queue.kick(retry)
        queued = queued_status(retry, error=error, started_at=status.started_at, finished_at=now())
        await finish(queue, message, [queued], ack)
        queue.counts["retried"] += 1
        return "retried"
    logger.error(
        "task %s (%s) failed after %d attempt(s): %s",
        message["id"],
        message["name"],
        attempt,
        error,
        exc_info=exc if not isinstance(exc, TimeoutError) else None,
    )
    final = TaskStatus(
        **{**status.to_dict(), "state": "failed", "error": error, "finished_at": now()}
    )
    await queue.store.keep_failed(
        final, {"path": message["path"], "args": message["args"], "kwargs": message["kwargs"]}
    )
    await finish(queue, message, [final], ack)
    queue.counts["failed"] += 1
    return "failed"


async def serve(app: App, stop: asyncio.Event) -> None:
    """Run `app`'s tasks until `stop` is set."""
    from taskiq.acks import AcknowledgeType
    from taskiq.receiver import Receiver

    queue = app.tasks
    if not isinstance(queue, DistributedQueue):
        raise ConfigurationError(
            "ambi worker runs tasks of a distributed queue: the app needs "
            "enable_background_tasks(backend='redis://...' or 'nats://...')"
        )
    await app.startup()
    try:
        queue.broker.is_worker_process = True
        receiver = Receiver(
            queue.broker,
            validate_params=False,
            max_async_tasks=queue.workers,
            run_startup=False,
            ack_type=AcknowledgeType.MANUAL,  # `finish` acknowledges, once recorded
            wait_tasks_timeout=queue.shutdown_timeout,
        )
        logger.info(
            "ambi worker: %d task(s) at once from %s (queue %r)",
            queue.workers,
            queue.backend,
            queue.queue_name,
        )
        await receiver.listen(stop)
    finally:
        await app.shutdown()


def run_worker(app: App) -> None:
    """Serve `app`'s tasks in this process until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, stop)

    asyncio.run(main())
