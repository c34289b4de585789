"""The thread pool's workers: how they are scheduled, and how idle ones take new jobs."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from ambi import HTTPException
from ambi.execution import Engine
from ambi.execution import _pool as pool_module
from ambi.execution._pool import yield_on_wake


def _batch_policy_allowed() -> bool:
    """Whether a thread here may switch itself to SCHED_BATCH (Linux, no seccomp veto)."""
    allowed: list[bool] = []
    probe = threading.Thread(target=lambda: allowed.append(yield_on_wake()))
    probe.start()
    probe.join()
    return allowed[0]


@pytest.mark.skipif(not _batch_policy_allowed(), reason="no SCHED_BATCH for threads here")
async def test_workers_run_under_the_batch_policy_and_the_loop_does_not() -> None:
    engine = Engine(sync_workers=2)
    try:
        policy = await engine.run_in_thread(os.sched_getscheduler, 0)
        assert policy == os.SCHED_BATCH  # waking it does not preempt the loop thread
        assert os.sched_getscheduler(0) != os.SCHED_BATCH  # only the workers
    finally:
        engine.stop()


async def test_workers_serve_where_the_policy_cannot_be_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object) -> None:
        raise PermissionError("not here")

    monkeypatch.setattr(pool_module.os, "sched_setscheduler", refuse, raising=False)
    assert yield_on_wake() is False
    engine = Engine(sync_workers=2)
    try:
        assert await engine.run_in_thread(sum, (1, 2, 3)) == 6
    finally:
        engine.stop()


async def test_idle_workers_take_the_next_jobs_without_new_threads() -> None:
    engine = Engine(sync_workers=8)
    try:
        names = set()
        for _ in range(5):
            names.add(await engine.run_in_thread(lambda: threading.current_thread().name))
            await asyncio.sleep(0.02)  # the worker is back waiting for jobs
        threads = engine.threads
        assert threads is not None
        assert threads.size == 1
        assert len(names) == 1
    finally:
        engine.stop()


async def test_busy_workers_make_the_pool_grow_to_its_bound() -> None:
    engine = Engine(sync_workers=3)
    release = threading.Event()
    try:
        jobs = [engine.run_in_thread(release.wait, 5) for _ in range(5)]
        await asyncio.sleep(0.05)
        threads = engine.threads
        assert threads is not None
        assert threads.size == 3  # three busy, two queued: no fourth thread
        release.set()
        assert await asyncio.gather(*jobs) == [True] * 5
    finally:
        release.set()
        engine.stop()


async def test_cleanups_run_while_every_worker_waits_for_what_they_release() -> None:
    """Route jobs waiting for a resource (a connection pool, say) that only cleanup work
    gives back: the cleanups have threads of their own, so nothing starves."""
    engine = Engine(sync_workers=2)
    connections = threading.Semaphore(0)  # all taken by requests that have answered
    try:
        waiting = [
            engine.submit_route_job("GET /x", connections.acquire, True, 5) for _ in range(2)
        ]
        await asyncio.sleep(0.05)  # both workers now wait in acquire()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(engine.run_cleanup(connections.release) for _ in range(2)))
        assert await asyncio.gather(*waiting) == [True, True]
        assert loop.time() - started < 2.5  # not the 5 s of the acquire timeout
    finally:
        engine.stop()


async def test_cleanup_work_is_never_refused() -> None:
    engine = Engine(sync_workers=1, sync_queue_limit=0)
    release = threading.Event()
    try:
        busy = engine.submit_route_job("GET /x", release.wait, 5)
        await asyncio.sleep(0.05)
        with pytest.raises(HTTPException) as refused:
            engine.submit_route_job("GET /x", sum, (1,))
        assert refused.value.status_code == 503
        assert await engine.run_cleanup(sum, (1, 2)) == 3  # the queue limit is not its
        release.set()
        assert await busy is True
    finally:
        release.set()
        engine.stop()
