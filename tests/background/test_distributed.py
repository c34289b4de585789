"""The distributed queue against the real Redis and NATS on 127.0.0.1, with real worker
processes: results and failures visible from another process, retries, refusals at
enqueue, and at-least-once delivery with a worker killed mid-run."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from ambi import App, ConfigurationError
from ambi.background import QueueFull

from . import dist_app
from .conftest import REDIS_URL, ROOT, Worker

pytestmark = pytest.mark.server


@pytest.fixture
def sender(backend: str, queue_name: str) -> App:
    """An app (in this process) sending to the test's queue; tests start it with `run`."""
    app = App()
    app.enable_background_tasks(
        backend=backend, queue_name=queue_name, visibility_timeout=3, max_backoff=0.2
    )
    return app


def run(app: App, coro_fn: Callable[[], Any], timeout: float = 30) -> Any:
    """Start `app`, run `coro_fn()`, shut the app down: all on one fresh loop."""

    async def main() -> Any:
        await app.startup()
        try:
            return await asyncio.wait_for(coro_fn(), timeout)
        finally:
            await app.shutdown()

    return asyncio.run(main())


def ran(queue_name: str) -> set[str]:
    members = redis.Redis.from_url(REDIS_URL).smembers(f"ambi-test:{queue_name}:ran")
    return {m.decode() for m in members}  # type: ignore[union-attr]


def test_sync_and_async_tasks_run_in_a_worker_and_report_back(
    sender: App, start_worker: Callable[..., Worker], queue_name: str
) -> None:
    start_worker()

    async def scenario() -> list[Any]:
        ids = [
            sender.add_task(dist_app.record, "a"),
            sender.add_task(dist_app.record_async, "b", pause=0.01),
            sender.tasks.submit(dist_app.record, ("c",), delay=0.5),
        ]
        return [await sender.tasks.wait(i, 20) for i in ids]

    statuses = run(sender, scenario)
    assert [(s.state, s.result, s.attempts) for s in statuses] == [
        ("done", "a", 1),
        ("done", "b", 1),
        ("done", "c", 1),
    ]
    assert statuses[2].started_at - statuses[2].enqueued_at >= 0.45  # the delay held
    assert ran(queue_name) == {"a", "b", "c"}


def test_retries_then_failed_tasks_are_kept_for_inspection(
    sender: App, start_worker: Callable[..., Worker]
) -> None:
    start_worker()

    async def scenario() -> tuple[Any, Any, list[dict[str, Any]]]:
        recovers = sender.tasks.submit(dist_app.fail_until, ("x", 2), max_retries=2)
        gives_up = sender.tasks.submit(dist_app.fail_until, ("y", 9), max_retries=1)
        first = await sender.tasks.wait(recovers, 20)
        second = await sender.tasks.wait(gives_up, 20)
        return first, second, await sender.tasks.failed()  # type: ignore[attr-defined]

    recovered, failed, kept = run(sender, scenario)
    assert (recovered.state, recovered.result, recovered.attempts) == ("done", 2, 2)
    assert (failed.state, failed.attempts, failed.error) == ("failed", 2, "RuntimeError: try 2")
    assert [(k["id"], k["path"], k["args"]) for k in kept] == [
        (failed.id, "tests.background.dist_app:fail_until", ["y", 9])
    ]


def _nested() -> Callable[[], None]:
    def inner() -> None:
        pass

    return inner


def _shadowed() -> None:
    pass


_first = _shadowed


def _shadowed() -> None:  # type: ignore[no-redef]
    pass


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda: None, "module-level functions"),
        (functools.partial(dist_app.record, "x"), "module-level functions"),
        (_nested(), "module-level functions"),
        (_first, "does not import back"),
    ],
)
def test_tasks_that_cannot_be_imported_by_a_worker_are_refused_at_enqueue(
    sender: App, fn: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        sender.add_task(fn)


def test_arguments_that_are_not_json_are_refused_at_enqueue(sender: App) -> None:
    with pytest.raises(ConfigurationError, match="as JSON"):
        sender.add_task(dist_app.record, object())


def test_delays_that_do_not_fit_the_visibility_timeout_are_refused(sender: App) -> None:
    with pytest.raises(ConfigurationError, match="visibility_timeout"):
        sender.tasks.submit(dist_app.record, ("x",), delay=5)
    with pytest.raises(ConfigurationError, match="visibility_timeout"):
        App().enable_background_tasks(backend=REDIS_URL, timeout=600)


def test_a_full_send_buffer_raises_queue_full(backend: str, queue_name: str) -> None:
    app = App()
    app.enable_background_tasks(backend=backend, queue_name=queue_name, max_queued=2)
    app.add_task(dist_app.record, "1")  # not started: buffered until startup
    app.add_task(dist_app.record, "2")
    with pytest.raises(QueueFull):
        app.add_task(dist_app.record, "3")


def test_unknown_backends_and_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="expected 'memory'"):
        App().enable_background_tasks(backend="amqp://127.0.0.1")
    with pytest.raises(ConfigurationError, match="keep_results"):
        App().enable_background_tasks(backend=REDIS_URL, keep_results=5)


def test_ambi_worker_refuses_an_app_without_a_distributed_queue() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ambi.cli", "worker", "tests.background.plain_app:app"],
        cwd=ROOT,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert b"enable_background_tasks(backend=" in result.stderr


def enqueuer(backend: str, queue_name: str, count: int, prefix: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AMBI_TEST_BACKEND": backend, "AMBI_TEST_QUEUE": queue_name}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.background.enqueue", str(count), prefix],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _pids(key: str) -> dict[str, int]:
    found = redis.Redis.from_url(REDIS_URL).hgetall(key)
    return {k.decode(): int(v) for k, v in found.items()}  # type: ignore[union-attr]


def _stopped(pid: int) -> bool:
    """Whether process `pid` is stopped (SIGSTOP): its state in /proc/<pid>/stat is T."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for `condition` (checked every 10 ms), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@pytest.mark.timeout(300)  # ~15 s on a quiet machine; the waits below end on conditions
def test_a_thousand_tasks_from_two_apps_all_complete_with_a_worker_killed_midway(
    backend: str, queue_name: str, start_worker: Callable[..., Worker]
) -> None:
    doomed = start_worker()
    survivor = start_worker()
    senders = [enqueuer(backend, queue_name, 500, p) for p in ("a", "b")]
    running, by = f"ambi-test:{queue_name}:running", f"ambi-test:{queue_name}:by"

    def kill_mid_task() -> set[str] | None:
        """Once some work is done: freeze the doomed worker (SIGSTOP), and kill it if it is
        inside a task (SIGKILL: it holds that task unacknowledged); else let it go on.
        Frozen, it cannot finish the task between the look and the kill."""
        if len(ran(queue_name)) < 100:
            return None
        doomed.proc.send_signal(signal.SIGSTOP)
        _until(lambda: _stopped(doomed.proc.pid), 10, "the worker to stop")
        done = ran(queue_name)
        inside = {t for t, pid in _pids(running).items() if pid == doomed.proc.pid} - done
        if inside:
            doomed.proc.send_signal(signal.SIGKILL)
            doomed.proc.wait(10)
            return inside
        doomed.proc.send_signal(signal.SIGCONT)
        return None

    deadline = time.monotonic() + 120
    lost_with_it = kill_mid_task()
    while lost_with_it is None:
        assert time.monotonic() < deadline, "the first worker was never seen inside a task"
        time.sleep(0.01)
        lost_with_it = kill_mid_task()
    outputs = [s.communicate(timeout=120)[0] for s in senders]
    assert [s.returncode for s in senders] == [0, 0]
    ids = [line for out in outputs for line in out.split()]
    assert len(set(ids)) == 1000
    everything = {f"{p}-{n}" for p in "ab" for n in range(500)}
    _until(lambda: ran(queue_name) == everything, 180, "every task to have run")
    finished_by = _pids(by)
    # the tasks the killed worker was running were run again, by the other worker
    assert {finished_by[t] for t in lost_with_it} == {survivor.proc.pid}

    app = App()
    app.enable_background_tasks(backend=backend, queue_name=queue_name)

    async def statuses() -> list[Any]:
        # the survivor may still be writing the last statuses: wait for each
        return [await app.tasks.wait(task_id, 20) for task_id in ids]

    final = run(app, statuses, timeout=60)
    assert {s.state for s in final} == {"done"}
    assert survivor.proc.poll() is None
