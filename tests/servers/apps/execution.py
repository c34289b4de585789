"""The app the execution engine's real-server tests run: process, adaptive, saturated and
limited routes beside an async health check.

python execution.py PORT [SERVER] [INTERFACE]

Settings come from the environment (AMBI_TEST_SYNC_WORKERS, AMBI_TEST_QUEUE_LIMIT,
AMBI_TEST_INLINE_AFTER, AMBI_TEST_SHUTDOWN_TIMEOUT). `AMBI_TEST_MARKER` names a file the
shutdown hook writes.
Importing it starts nothing: the process pool's children import it again.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import threading
import time
from typing import Any

from ambi import App, Request

app = App(
    sync_workers=int(os.environ.get("AMBI_TEST_SYNC_WORKERS", "40")),
    sync_queue_limit=int(os.environ.get("AMBI_TEST_QUEUE_LIMIT", "256")),
    inline_after=int(os.environ.get("AMBI_TEST_INLINE_AFTER", "1000")),
    process_workers=2,
    shutdown_timeout=float(os.environ.get("AMBI_TEST_SHUTDOWN_TIMEOUT", "10")),
)

#: the event loop's thread, noted at startup
LOOP_THREAD: list[int] = []


def compute_primes(n: int) -> dict[str, Any]:
    """The seed's compute_prime work (Catzilla docs), CPU-bound."""

    def is_prime(num: int) -> bool:
        return num >= 2 and all(num % i for i in range(2, int(math.sqrt(num)) + 1))

    primes = [i for i in range(2, n) if is_prime(i)]
    return {"count": len(primes), "pid": os.getpid()}


@app.on_event("startup")
async def note_loop() -> None:
    LOOP_THREAD.append(threading.get_ident())


@app.on_event("shutdown")
def write_marker() -> None:
    marker = os.environ.get("AMBI_TEST_MARKER")
    if marker:
        with open(marker, "a", encoding="utf-8") as f:
            f.write(f"shutdown {os.getpid()}\n")


app.add_route("/prime/process", compute_primes, run="process")
app.add_route("/prime/thread", compute_primes, run="thread")


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": "yes"}


@app.get("/adaptive")
def adaptive(d: float = 0.0) -> dict[str, bool]:
    """Fast until asked to sleep; reports whether it ran on the loop's thread."""
    if d:
        time.sleep(d)
    return {"on_loop": threading.get_ident() in LOOP_THREAD}


@app.get("/sleep", run="thread")
def sleep(d: float = 0.5) -> dict[str, float]:
    time.sleep(d)
    return {"slept": d}


@app.get("/limited", run="thread", max_concurrency=2)
def limited(d: float = 0.5) -> dict[str, float]:
    time.sleep(d)
    return {"slept": d}


@app.get("/timeout/async", timeout=0.3)
async def timeout_async(d: float = 2.0) -> dict[str, float]:
    await asyncio.sleep(d)
    return {"slept": d}


@app.get("/timeout/sync", run="thread", timeout=0.3)
def timeout_sync(d: float = 2.0) -> dict[str, float]:
    time.sleep(d)
    return {"slept": d}


@app.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    engine = request.app.engine
    threads = engine.threads
    return {
        "rejected": dict(engine.stats.rejected),
        "over_limit": dict(engine.stats.over_limit),
        "timed_out": dict(engine.stats.timed_out),
        "loop_blocks": dict(engine.stats.loop_blocks),
        "promoted": engine.stats.promoted,
        "demoted": engine.stats.demoted,
        "late_finished": threads.late_finished if threads else 0,
        "process_pids": engine.processes.pids if engine.processes else [],
    }


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
