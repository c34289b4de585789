"""Shared by the task-queue benchmarks: the no-op tasks, what they record, the report.

Every engine runs the same task, `noop(enqueued_at)`, as `async def` or `def`. The worker
process keeps, for each run, the time it finished and its enqueue-to-done latency, in
memory (no extra I/O per task), and writes them out once the expected count has run. The
measuring process enqueues every task as fast as the engine takes them and reads:
throughput = tasks / (last done - first enqueued); latency = done - enqueued, per task.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

DONE: list[tuple[float, float]] = []  # (finished at, latency) in the worker process


def _record(enqueued_at: float) -> None:
    now = time.time()
    DONE.append((now, now - enqueued_at))  # list.append: atomic, from threads too


def noop_sync(enqueued_at: float) -> None:
    _record(enqueued_at)


async def noop_async(enqueued_at: float) -> None:
    _record(enqueued_at)


async def wait_for_count(target: int, limit: float = 300) -> None:
    """Until `target` tasks ran (checked every 10 ms: costs nothing measured, as each task
    stamps its own finish time; an Event could not be set from the sync tasks' threads)."""
    deadline = time.monotonic() + limit
    while len(DONE) < target and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def wait_and_write(target: int, path: Path) -> None:
    """In the worker: once `target` tasks ran, write what they recorded to `path`."""
    await wait_for_count(target)
    await asyncio.to_thread(path.write_text, json.dumps(DONE))


def summary(
    first_enqueued: float, done: list[tuple[float, float]], enqueue_s: float
) -> dict[str, Any]:
    latencies = sorted(lat for _, lat in done)
    last = max(t for t, _ in done)
    total = last - first_enqueued

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "tasks": len(done),
        "enqueue_s": round(enqueue_s, 3),
        "total_s": round(total, 3),
        "tasks_per_s": round(len(done) / total),
        "p50_ms": round(pct(0.50), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
    }


def table(rows: list[dict[str, Any]]) -> str:
    cols = ["engine", "kind", "tasks", "enqueue_s", "total_s", "tasks_per_s", "p50_ms", "p99_ms"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
