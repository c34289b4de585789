"""The worker side of the distributed queue: `ambi worker module:app`.

A worker process imports the app, starts it (its startup hooks run: tasks may use what they
set up), and runs a taskiq `Receiver` on the app's broker with at most `workers` tasks at
once. Each message names a task by import path; it runs through `ambi.execution.Invoker`
like everything else (`async def` on the loop, `def` in the app's thread pool), its status
is written, and only then does the receiver acknowledge the message. SIGINT / SIGTERM stop
taking messages and wait up to `shutdown_timeout` for the running ones; a message whose
task did not finish stays unacknowledged and is redelivered to another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Any

import orjson

from ..exceptions import ConfigurationError
from ..execution import ExecutionKind, Invoker
from ._distributed import TASKIQ_TASK, DistributedQueue, queued_status, resolve
from ._status import TaskStatus, backoff_delay, describe_error, now

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.tasks")


def register(queue: DistributedQueue) -> None:
    """Register the one taskiq task that runs every ambi task, on `queue.broker`."""
    invokers: dict[str, Invoker] = {}

    async def run(message: dict[str, Any]) -> None:
        await execute(queue, invokers, message)

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


async def execute(
    queue: DistributedQueue, invokers: dict[str, Invoker], message: dict[str, Any]
) -> None:
    """Run one delivery of a task and record what happened."""
    wait = message["eta"] - now()
    if wait > 0:  # delayed, or backing off before a retry
        await asyncio.sleep(wait)
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
        await running
        await _failed(queue, message, status, exc)
        return
    await running
    await queue.store.put(
        [
            TaskStatus(
                **{**status.to_dict(), "state": "done", "result": result, "finished_at": now()}
            )
        ]
    )


async def _failed(
    queue: DistributedQueue, message: dict[str, Any], status: TaskStatus, exc: Exception
) -> None:
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
        await queue.store.put(
            [queued_status(retry, error=error, started_at=status.started_at, finished_at=now())]
        )
        await queue.kick(retry)
        return
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
    await queue.store.put([final])
    await queue.store.keep_failed(
        final, {"path": message["path"], "args": message["args"], "kwargs": message["kwargs"]}
    )


async def serve(app: App, stop: asyncio.Event) -> None:
    """Run `app`'s tasks until `stop` is set."""
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
