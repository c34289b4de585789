"""smartasync under threads: one decorated function hammered from sync threads while other
threads await it, and short-lived threads that must leave no file descriptor behind."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections import Counter
from pathlib import Path

import pytest

from ambi.bridge import smartasync

SYNC_THREADS = 8
CALLS_PER_THREAD = 7_500


@smartasync
async def echo(x: int) -> int:
    return x


def call_many(first: int, tallies: list[Counter[str]]) -> None:
    """CALLS_PER_THREAD sync calls; counts results that are right, wrong, or coroutines."""
    local: Counter[str] = Counter()
    for i in range(first, first + CALLS_PER_THREAD):
        result = echo(i)
        if inspect.isawaitable(result):
            local["coroutine"] += 1
            result.close()  # type: ignore[attr-defined]
        else:
            local["right" if result == i else "wrong"] += 1
    tallies.append(local)


async def await_until(stop: threading.Event) -> int:
    n = 0
    while not stop.is_set():
        assert await echo(n) == n
        n += 1
        if n % 50 == 0:
            await asyncio.sleep(0)
    return n


def test_sync_threads_and_async_threads_share_one_function() -> None:
    """SmartAsync 0.5 cached "a loop was seen" for every thread: after one async use, sync
    callers got un-run coroutines. Here 8 x 7,500 sync calls race 2 threads awaiting it."""
    stop = threading.Event()
    errors: list[BaseException] = []
    tallies: list[Counter[str]] = []
    awaited: list[int] = []

    def guarded(fn: object, *args: object) -> threading.Thread:
        def body() -> None:
            try:
                fn(*args)  # type: ignore[operator]
            except BaseException as exc:
                errors.append(exc)

        return threading.Thread(target=body)

    async_threads = [
        guarded(lambda: awaited.append(asyncio.run(await_until(stop)))) for _ in range(2)
    ]
    sync_threads = [guarded(call_many, k * CALLS_PER_THREAD, tallies) for k in range(SYNC_THREADS)]
    for thread in async_threads + sync_threads:
        thread.start()
    for thread in sync_threads:
        thread.join()
    stop.set()
    for thread in async_threads:
        thread.join()

    assert errors == []
    assert sum(tallies, Counter()) == Counter(right=SYNC_THREADS * CALLS_PER_THREAD)
    assert len(awaited) == 2
    assert all(n > 0 for n in awaited)  # the async side really ran alongside


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_short_lived_threads_leak_no_file_descriptors() -> None:
    def once() -> None:
        assert echo(1) == 1

    warm_up = threading.Thread(target=once)
    warm_up.start()
    warm_up.join()
    before = _open_fds()
    threads = [threading.Thread(target=once) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # No gc.collect(): each loop is closed as its thread ends, not when collected.
    assert _open_fds() == before
