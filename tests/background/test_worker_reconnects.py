"""`ambi worker` outlives Redis going away: its read loop waits the outage out and reads
again, where taskiq-redis's own loop raised and the worker process exited. The worker
reaches the real Redis through a proxy that the test stops and starts again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ambi import App

from ..stores._proxy import RedisProxy
from . import dist_app
from .conftest import REDIS_URL, ROOT, answering
from .test_distributed import ran, run

pytestmark = pytest.mark.server


class ThreadedProxy:
    """A `RedisProxy` on a loop of its own thread, driven from sync test code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = RedisProxy()
        self.call(self.proxy.start())

    def call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def close(self) -> None:
        self.call(self.proxy.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def proxy() -> Iterator[ThreadedProxy]:
    if not answering(6379):
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    threaded = ThreadedProxy()
    yield threaded
    threaded.close()


def test_a_worker_reads_again_after_redis_comes_back(
    proxy: ThreadedProxy, queue_name: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    env = {**os.environ, "AMBI_TEST_BACKEND": proxy.proxy.url, "AMBI_TEST_QUEUE": queue_name}
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ambi.cli", "worker", "tests.background.dist_app:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "Listening started" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        proxy.call(proxy.proxy.stop())  # Redis gone: every connection of the worker closed
        deadline = time.monotonic() + 10
        while "Redis unreachable" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        proxy.call(proxy.proxy.start())  # and back
        assert worker.poll() is None, log.read_text(errors="replace")

        token = f"after-{uuid.uuid4().hex[:8]}"
        app = App()  # enqueues straight into the real Redis, the worker reads via the proxy
        app.enable_background_tasks(backend=REDIS_URL, queue_name=queue_name)

        async def enqueue() -> None:
            app.add_task(dist_app.record, token)
            await app.tasks.flush(timeout=5)

        run(app, enqueue)
        deadline = time.monotonic() + 15
        while token not in ran(queue_name):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
