"""Distributed task engines compared on the same Redis: taskiq (Redis Streams; and NATS
JetStream) against SAQ, with 10,000 no-op tasks, `async def` and `def`, 10 at once.

For each engine and kind: a worker process is started and given time to connect; this
process enqueues every task as fast as the engine takes them (one `kiq` / `enqueue` call
each, 64 in flight); the worker records each task's finish time and latency in memory and
writes them out at the end (see `_taskbench.py`). Run:

    .venv/bin/python -m benchmarks.bench_task_engines [--tasks 10000] [--engines taskiq-redis,saq]

Needs `pip install -e '.[dev,bench]'` (taskiq, taskiq-redis, taskiq-nats, saq) and Redis
(and NATS) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import _taskbench

REDIS = "redis://127.0.0.1:6379/0"
NATS = "nats://127.0.0.1:4222"
CONCURRENCY = 10
ENGINES = ("taskiq-redis", "taskiq-nats", "saq")


def _fn(kind: str) -> Callable[..., Any]:
    return _taskbench.noop_async if kind == "async" else _taskbench.noop_sync


# taskiq ------------------------------------------------------------------------------------


def _taskiq_broker(engine: str, name: str) -> Any:
    if engine == "taskiq-redis":
        from taskiq_redis import RedisStreamBroker

        return RedisStreamBroker(REDIS, queue_name=f"bench:{name}", consumer_group_name=name)
    from taskiq_nats import PullBasedJetStreamBroker

    return PullBasedJetStreamBroker(
        NATS,
        subject=f"bench.{name}",
        stream_name=f"bench_{name}",
        durable=name,
        pull_consume_batch=64,
    )


async def _taskiq_worker(engine: str, kind: str, name: str, target: int, out: Path) -> None:
    from taskiq.receiver import Receiver

    broker = _taskiq_broker(engine, name)
    broker.register_task(_fn(kind), task_name="noop")
    broker.is_worker_process = True
    await broker.startup()
    receiver = Receiver(
        broker,
        executor=ThreadPoolExecutor(CONCURRENCY),
        validate_params=False,
        max_async_tasks=CONCURRENCY,
        run_startup=False,
    )
    stop = asyncio.Event()
    listening = asyncio.create_task(receiver.listen(stop))
    print("ready", flush=True)
    await _taskbench.wait_and_write(target, out)
    stop.set()
    await asyncio.wait_for(listening, 10)
    await broker.shutdown()


async def _taskiq_enqueue(engine: str, name: str, count: int) -> tuple[float, float]:
    from taskiq.kicker import AsyncKicker

    broker = _taskiq_broker(engine, name)
    await broker.startup()
    kicker: Any = AsyncKicker("noop", broker, {})
    first, took = await _enqueue_all(count, lambda: kicker.kiq(time.time()))
    await broker.shutdown()
    return first, took


# SAQ ---------------------------------------------------------------------------------------


async def _saq_worker(kind: str, name: str, target: int, out: Path) -> None:
    from saq import Queue, Worker

    fn = _fn(kind)

    async def noop(ctx: dict[str, Any], *, enqueued_at: float) -> None:
        # SAQ passes a context first; a `def` task is run in SAQ's thread pool
        result = fn(enqueued_at)
        if asyncio.iscoroutine(result):
            await result

    if kind == "sync":

        def noop_sync(ctx: dict[str, Any], *, enqueued_at: float) -> None:
            _taskbench.noop_sync(enqueued_at)

        functions: list[Any] = [("noop", noop_sync)]
    else:
        functions = [("noop", noop)]
    queue = Queue.from_url(REDIS, name=name)
    worker = Worker(queue, functions, concurrency=CONCURRENCY)
    running = asyncio.create_task(worker.start())
    print("ready", flush=True)
    await _taskbench.wait_and_write(target, out)
    await worker.stop()
    running.cancel()
    await queue.disconnect()


async def _saq_enqueue(name: str, count: int) -> tuple[float, float]:
    from saq import Queue

    queue = Queue.from_url(REDIS, name=name)
    await queue.connect()
    first, took = await _enqueue_all(count, lambda: queue.enqueue("noop", enqueued_at=time.time()))
    await queue.disconnect()
    return first, took


# the harness -------------------------------------------------------------------------------


async def _enqueue_all(count: int, send: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Enqueue `count` tasks, 64 calls in flight; (time of the first, seconds it took)."""
    first = time.time()
    start = time.perf_counter()
    remaining = iter(range(count))

    async def lane() -> None:
        for _ in remaining:
            await send()

    await asyncio.gather(*(lane() for _ in range(64)))
    return first, time.perf_counter() - start


def measure(engine: str, kind: str, count: int) -> dict[str, Any]:
    name = f"b{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "done.json"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_task_engines",
                "--worker",
                engine,
                kind,
                name,
                str(count),
                str(out),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{engine} worker did not start")
        time.sleep(1.0)  # let it connect and start reading
        if engine == "saq":
            first, took = asyncio.run(_saq_enqueue(name, count))
        else:
            first, took = asyncio.run(_taskiq_enqueue(engine, name, count))
        worker.wait(300)
        done = [tuple(d) for d in json.loads(out.read_text())]
    asyncio.run(_cleanup(name))
    return {"engine": engine, "kind": kind, **_taskbench.summary(first, done, took)}  # type: ignore[arg-type]


async def _cleanup(name: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS)
    keys = [k async for k in client.scan_iter(f"*{name}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    try:
        import nats

        nc = await nats.connect(NATS)
        with contextlib.suppress(Exception):  # not a NATS run
            await nc.jetstream().delete_stream(f"bench_{name}")
        await nc.close()
    except Exception:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--kinds", default="async,sync")
    parser.add_argument("--worker", nargs=5, metavar=("ENGINE", "KIND", "NAME", "N", "OUT"))
    args = parser.parse_args()
    if args.worker:
        engine, kind, name, n, out = args.worker
        if engine == "saq":
            asyncio.run(_saq_worker(kind, name, int(n), Path(out)))
        else:
            asyncio.run(_taskiq_worker(engine, kind, name, int(n), Path(out)))
        return
    rows = [
        measure(engine, kind, args.tasks)
        for engine in args.engines.split(",")
        for kind in args.kinds.split(",")
    ]
    print(_taskbench.table(rows))


if __name__ == "__main__":
    main()
