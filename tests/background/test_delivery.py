"""At least once, even when the outcome cannot be recorded: a worker whose status writes
fail does not acknowledge the message, so the task runs again once the store is back
(real Redis; the worker runs in this process with its status connection broken)."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio

from ambi import App
from ambi.background._worker import serve

from . import dist_app
from .conftest import REDIS_URL, answering

pytestmark = pytest.mark.server


@pytest.fixture
def redis_queue(queue_name: str) -> str:
    if not answering(6379):
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    return queue_name


async def _until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.timeout(60)
def test_a_failed_status_write_leaves_the_message_unacknowledged(
    redis_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dist_app, "QUEUE", redis_queue)  # count_run's key
    # monkeypatch.setattr("ambi.background._worker.WRITE_BACKOFF", 0.01)

    def make() -> App:
        app = App()
        app.enable_background_tasks(
            backend=REDIS_URL, queue_name=redis_queue, visibility_timeout=1, max_backoff=0.2
        )
        return app

    sender, worker = make(), make()
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    runs_key = f"ambi-test:{redis_queue}:runs:t1"

    async def main() -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(worker, stop))
        await _until(lambda: _ready(worker), 20, "the worker to start")
        store = worker.tasks.store  # type: ignore[attr-defined]
        working = store.redis
        # nothing listens on port 1: every status write of the worker fails
        store.redis = redis.asyncio.Redis.from_url("redis://127.0.0.1:1")
        await sender.startup()
        try:
            task_id = sender.add_task(dist_app.count_run, "t1")

            async def gave_up() -> bool:
                ran = await client.get(runs_key)
                return ran is not None and worker.tasks.counts["running"] == 0  # type: ignore[attr-defined]

            await _until(gave_up, 20, "the task to run and its status write to fail")
            stream, group = f"ambi:{redis_queue}:stream", f"ambi:{redis_queue}"
            pending = await client.xpending(stream, group)
            assert pending["pending"] == 1  # run, not acknowledged
            status = await sender.tasks.status(task_id)
            assert status is not None
            assert status.state == "queued"  # only the sender's record got written
            store.redis = working  # the store is back: the message is delivered again
            final = await sender.tasks.wait(task_id, 30)
            assert final.state == "done"
            assert final.result == 2  # it ran twice: the first outcome was never recorded
            assert int(await client.get(runs_key)) == 2
            await _until(lambda: _acknowledged(client, stream, group), 10, "the ack")
        finally:
            stop.set()
            await asyncio.wait((serving,), timeout=30)
            await sender.shutdown()
            await client.delete(runs_key)
            await client.aclose()

    asyncio.run(main())


async def _ready(app: App) -> bool:
    return getattr(app.tasks, "store", None) is not None and app.tasks.store.redis is not None  # type: ignore[attr-defined]


async def _acknowledged(client: redis.asyncio.Redis, stream: str, group: str) -> bool:
    return (await client.xpending(stream, group))["pending"] == 0  # type: ignore[no-any-return]
