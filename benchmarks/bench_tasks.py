"""ambi's app task queue: enqueue-to-done throughput and latency of 10,000 no-op tasks, in
this process and through the distributed backends (a worker process running `serve`, as
`ambi worker` does), `async def` and `def`, 10 at once; and the CPU an idle in-process
queue uses. Same method as `bench_task_engines.py` (see `_taskbench.py`). Run:

    .venv/bin/python -m benchmarks.bench_tasks [--tasks 10000] [--backends memory,redis,nats]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ambi import App
from benchmarks import _taskbench

URLS = {"redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}
CONCURRENCY = 10


def _app(backend: str, name: str) -> App:
    app = App()
    if backend == "memory":
        app.enable_background_tasks(CONCURRENCY, max_queued=1_000_000)
    else:
        app.enable_background_tasks(
            CONCURRENCY,
            backend=URLS[backend],
            queue_name=name,
            max_queued=1_000_000,
            shutdown_timeout=300,  # the sender's shutdown waits until every task is sent
        )
    return app


def _fn(kind: str) -> Any:
    return _taskbench.noop_async if kind == "async" else _taskbench.noop_sync


async def _in_process(kind: str, count: int) -> dict[str, Any]:
    app = _app("memory", "")
    await app.startup()
    fn = _fn(kind)
    first = time.time()
    start = time.perf_counter()
    for _ in range(count):
        app.add_task(fn, time.time())
    took = time.perf_counter() - start
    await _taskbench.wait_for_count(count)
    await app.shutdown()
    done, _taskbench.DONE[:] = list(_taskbench.DONE), []
    return _taskbench.summary(first, done, took)


async def _worker(backend: str, name: str, target: int, out: Path) -> None:
    from ambi.background._worker import serve

    app = _app(backend, name)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, stop))
    print("ready", flush=True)
    await _taskbench.wait_and_write(target, out)
    stop.set()
    await asyncio.wait_for(serving, 30)


async def _send(backend: str, name: str, kind: str, count: int) -> tuple[float, float]:
    app = _app(backend, name)
    await app.startup()
    fn = _fn(kind)
    first = time.time()
    start = time.perf_counter()
    for _ in range(count):
        app.add_task(fn, time.time())
    await app.shutdown()  # returns once everything is sent
    return first, time.perf_counter() - start


def _distributed(backend: str, kind: str, count: int) -> dict[str, Any]:
    name = f"b{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "done.json"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_tasks",
                "--worker",
                backend,
                name,
                str(count),
                str(out),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("the worker did not start")
        time.sleep(1.5)  # let it connect and start reading
        first, took = asyncio.run(_send(backend, name, kind, count))
        worker.wait(300)
        done = [tuple(d) for d in json.loads(out.read_text())]
    from benchmarks.bench_task_engines import _cleanup

    asyncio.run(_cleanup(name))
    asyncio.run(_cleanup(f"ambi_{name}"))
    return _taskbench.summary(first, done, took)  # type: ignore[arg-type]


async def _idle_cpu(seconds: float) -> float:
    app = _app("memory", "")
    await app.startup()
    app.add_task(_taskbench.noop_async, time.time())
    await asyncio.sleep(0.1)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    share = (time.process_time() - cpu) / (time.monotonic() - wall)
    await app.shutdown()
    return share


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--backends", default="memory,redis,nats")
    parser.add_argument("--kinds", default="async,sync")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measure")
    parser.add_argument("--worker", nargs=4, metavar=("BACKEND", "NAME", "N", "OUT"))
    args = parser.parse_args()
    if args.worker:
        backend, name, n, out = args.worker
        asyncio.run(_worker(backend, name, int(n), Path(out)))
        return
    rows = []
    for backend in args.backends.split(","):
        for kind in args.kinds.split(","):
            if backend == "memory":
                row = asyncio.run(_in_process(kind, args.tasks))
            else:
                row = _distributed(backend, kind, args.tasks)
            rows.append({"engine": f"ambi {backend}", "kind": kind, **row})
    print(_taskbench.table(rows))
    if args.idle:
        share = asyncio.run(_idle_cpu(args.idle))
        print(
            f"\nidle in-process queue (4 workers, started, nothing to do): "
            f"{share:.2%} of a core over {args.idle:.0f} s (pid {os.getpid()})"
        )


if __name__ == "__main__":
    main()
