"""Fixtures for the distributed queue: the real Redis and NATS on 127.0.0.1, a queue name
unique to each test (its keys, streams and buckets removed afterwards), and worker
processes (`ambi worker tests.background.dist_app:app`) that are always stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
NATS_URL = "nats://127.0.0.1:4222"


def answering(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


@pytest.fixture(params=["redis", "nats"])
def backend(request: pytest.FixtureRequest) -> str:
    """A distributed backend URL; skipped when its server does not answer."""
    if not answering(6379):
        pytest.skip("Redis is not answering on 127.0.0.1:6379 (the tests record runs there)")
    if request.param == "nats":
        if not answering(4222):
            pytest.skip("NATS is not answering on 127.0.0.1:4222")
        return NATS_URL
    return REDIS_URL


async def _cleanup(queue: str) -> None:
    import nats
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(f"ambi:{queue}:*")]
    keys += [k async for k in client.scan_iter(f"ambi-test:{queue}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    if answering(4222):
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for stream in (f"ambi_{queue}_tasks", f"KV_ambi_{queue}_status", f"KV_ambi_{queue}_failed"):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
        await nc.close()


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    asyncio.run(_cleanup(name))


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_worker(backend: str, queue_name: str, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """`start_worker(target=...)` starts `ambi worker` and waits until it listens."""
    workers: list[Worker] = []

    def start(target: str = "tests.background.dist_app:app") -> Worker:
        log = tmp_path / f"worker-{len(workers)}.log"
        env = {**os.environ, "AMBI_TEST_BACKEND": backend, "AMBI_TEST_QUEUE": queue_name}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ambi.cli", "worker", target],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(proc, log)
        workers.append(worker)
        deadline = time.monotonic() + 60  # bounded; a loaded machine starts it slowly
        while "Listening started" not in worker.output():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start:\n{worker.output()}")
            time.sleep(0.05)
        return worker

    yield start
    for worker in workers:
        if worker.proc.poll() is None:
            worker.proc.send_signal(signal.SIGTERM)
            try:
                worker.proc.wait(15)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
