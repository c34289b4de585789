"""Thread hand-off cost: ambi's ThreadPool against `loop.run_in_executor`.

Measures, for a trivial function, the time per call with one call in flight (latency of
the hop) and with 64 in flight (throughput, as under load). Run:

    .venv/bin/python -m benchmarks.bench_pool [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ambi.execution import ThreadPool


def work() -> int:
    return 1


async def _measure(submit: Callable[[], Awaitable[Any]], calls: int, in_flight: int) -> float:
    """Microseconds per call, with `in_flight` calls outstanding at any time."""

    async def lane(n: int) -> None:
        for _ in range(n):
            await submit()

    started = time.perf_counter()
    await asyncio.gather(*(lane(calls // in_flight) for _ in range(in_flight)))
    return (time.perf_counter() - started) / calls * 1e6


async def run(calls: int, rounds: int) -> dict[str, dict[int, float]]:
    loop = asyncio.get_running_loop()
    ours = ThreadPool(loop, 8, "bench")
    theirs = concurrent.futures.ThreadPoolExecutor(8)
    contenders: dict[str, Callable[[], Awaitable[Any]]] = {
        "ambi ThreadPool.submit": lambda: ours.submit(work),
        "loop.run_in_executor": lambda: loop.run_in_executor(theirs, work),
    }
    results: dict[str, dict[int, list[float]]] = {name: {1: [], 64: []} for name in contenders}
    try:
        for _ in range(rounds):  # interleaved, so drift hits both alike
            for name, submit in contenders.items():
                for in_flight in (1, 64):
                    results[name][in_flight].append(await _measure(submit, calls, in_flight))
    finally:
        ours.shutdown(timeout=5)
        theirs.shutdown(wait=True)
    return {name: {k: statistics.median(v) for k, v in by.items()} for name, by in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    args = parser.parse_args()
    calls, rounds = (640, 1) if args.quick else (64_000, 5)
    medians = asyncio.run(run(calls, rounds))
    print("| hand-off | µs/call, 1 in flight | µs/call, 64 in flight |")
    print("|---|---:|---:|")
    for name, by in medians.items():
        print(f"| {name} | {by[1]:.1f} | {by[64]:.1f} |")


if __name__ == "__main__":
    main()
