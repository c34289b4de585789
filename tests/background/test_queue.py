"""The in-process task queue: sync and async tasks, from sync and async routes, over ASGI
and RSGI; concurrency bound, delay, retries with backoff, timeouts, the bounded queue and
its 503, shutdown, and an idle queue that costs no CPU."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, ConfigurationError
from ambi.background import QueueClosed, QueueFull, current_tasks, schedule_task
from ambi.background._status import backoff_delay
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def make_task(kind: str, body: Callable[..., Any]) -> Callable[..., Any]:
    """`body` as a `def` task, or as an `async def` one that yields to the loop first."""
    if kind == "sync":
        return body

    async def task(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return body(*args, **kwargs)

    return task


@pytest.fixture(params=["sync", "async"])
def task_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def wait_for(client: TestClient, app: App, task_id: str, timeout: float = 5.0) -> Any:
    return app.tasks.wait(task_id, timeout)


def test_a_route_queues_a_task_and_its_status_tells_the_result(
    client_for: ClientFor, make_handler: MakeHandler, task_kind: str
) -> None:
    app = App()
    app.enable_background_tasks(workers=2)
    task = make_task(task_kind, lambda x, y=1: x * y)

    def enqueue(x: int) -> dict[str, str]:
        return {"add_task": app.add_task(task, x, y=3), "schedule_task": schedule_task(task, x)}

    app.get("/enqueue/{x:int}")(make_handler(enqueue))

    @app.get("/status/{task_id}")
    async def status(task_id: str) -> dict[str, Any]:
        return (await app.tasks.wait(task_id, 5)).to_dict()

    client = client_for(app)
    ids = client.get("/enqueue/7").json()
    first = client.get(f"/status/{ids['add_task']}").json()
    second = client.get(f"/status/{ids['schedule_task']}").json()
    assert (first["state"], first["result"], first["attempts"]) == ("done", 21, 1)
    assert (second["state"], second["result"]) == ("done", 7)
    assert first["enqueued_at"] <= first["started_at"] <= first["finished_at"]
    assert first["name"].endswith("<lambda>") or "task" in first["name"]


def test_sync_code_reads_status_without_await(client_for: ClientFor) -> None:
    app = App()
    app.enable_background_tasks()

    @app.get("/run")
    def run() -> dict[str, Any]:
        task_id = current_tasks.add_task(sum, [1, 2, 3])
        final = current_tasks.wait(task_id, 5)
        return {"final": final.result, "status": app.tasks.status(task_id).state}

    assert client_for(app).get("/run").json() == {"final": 6, "status": "done"}


def test_no_more_than_workers_tasks_run_at_once(task_kind: str) -> None:
    app = App()
    app.enable_background_tasks(workers=3)
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def body() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    if task_kind == "sync":
        task: Callable[..., Any] = body
    else:

        async def task() -> None:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            await asyncio.sleep(0.02)
            with lock:
                running[0] -= 1

    with TestClient(app) as client:
        ids = [app.add_task(task) for _ in range(12)]
        states = [wait_for(client, app, i).state for i in ids]
    assert states == ["done"] * 12
    assert peak[0] == 3


def test_tasks_queued_before_startup_run_after_it() -> None:
    app = App()
    app.enable_background_tasks()
    task_id = app.add_task(len, "abc")
    with TestClient(app) as client:
        assert wait_for(client, app, task_id).result == 3


def test_delay_holds_a_task_back(task_kind: str) -> None:
    app = App()
    app.enable_background_tasks()
    with TestClient(app) as client:
        task_id = app.tasks.submit(make_task(task_kind, time.time), delay=0.3)
        assert app.tasks.get(task_id).state == "queued"
        done = wait_for(client, app, task_id)
    assert done.result - done.enqueued_at >= 0.29


def test_a_failing_task_is_retried_with_backoff_then_succeeds(task_kind: str) -> None:
    app = App()
    app.enable_background_tasks(backoff=0.05, max_backoff=0.05)
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ValueError(f"attempt {len(calls)}")
        return "ok"

    with TestClient(app) as client:
        task_id = app.tasks.submit(make_task(task_kind, flaky), max_retries=2)
        done = wait_for(client, app, task_id)
    assert (done.state, done.result, done.attempts, done.error) == ("done", "ok", 3, None)


def test_a_task_failing_every_attempt_is_failed_with_its_error(
    task_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()
    app.enable_background_tasks(max_retries=1, backoff=0.01)

    def broken() -> None:
        raise RuntimeError("disk on fire")

    with TestClient(app) as client:
        task_id = app.add_task(make_task(task_kind, broken))
        done = wait_for(client, app, task_id)
    assert (done.state, done.attempts) == ("failed", 2)
    assert done.error == "RuntimeError: disk on fire"
    assert any(task_id in r.getMessage() and r.exc_info for r in caplog.records)


@given(attempt=st.integers(1, 40), base=st.floats(0, 10), cap=st.floats(0, 100))
def test_backoff_is_capped_exponential_with_full_jitter(
    attempt: int, base: float, cap: float
) -> None:
    delay = backoff_delay(attempt, base, cap)
    assert 0 <= delay <= min(cap, base * 2 ** (attempt - 1))


def test_backoff_grows_exponentially() -> None:
    means = [sum(backoff_delay(n, 1.0, 1000) for _ in range(2000)) / 2000 for n in (1, 2, 3, 4)]
    for n, mean in enumerate(means):
        assert 0.8 * 2**n / 2 < mean < 1.2 * 2**n / 2  # uniform(0, 2**n): mean 2**n / 2


def test_an_async_task_over_its_timeout_is_cancelled() -> None:
    app = App()
    app.enable_background_tasks()
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with TestClient(app) as client:
        task_id = app.tasks.submit(slow, timeout=0.1)
        done = wait_for(client, app, task_id)
    assert done.state == "failed"
    assert done.error == "TimeoutError: ran over its timeout of 0.1 s"
    assert done.duration is not None
    assert done.duration < 4  # stopped at its timeout, not after the 5 s sleep
    assert cancelled.is_set()


def test_a_sync_task_over_its_timeout_fails_but_keeps_its_slot_until_it_returns() -> None:
    app = App()
    app.enable_background_tasks(workers=1)
    release = threading.Event()
    with TestClient(app) as client:
        slow = app.tasks.submit(release.wait, (5,), timeout=0.1)
        after = app.add_task(time.time)
        assert wait_for(client, app, slow).error.startswith("TimeoutError")
        assert app.tasks.get(after).state == "queued"  # the one worker is still busy
        released_at = time.time()
        release.set()
        assert wait_for(client, app, after).result >= released_at


def test_a_full_queue_raises_to_the_caller_and_answers_503_from_a_route(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()
    app.enable_background_tasks(workers=1, max_queued=2)
    release = threading.Event()

    def enqueue() -> dict[str, str]:
        return {"id": app.add_task(release.wait, 5)}

    app.post("/jobs")(make_handler(enqueue))
    client = client_for(app)
    try:
        assert client.post("/jobs").status_code == 200  # runs: leaves the queue
        deadline = time.monotonic() + 5
        while app.tasks._waiting and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.01)
        assert [client.post("/jobs").status_code for _ in range(2)] == [200, 200]
        refused = client.post("/jobs")
        assert refused.status_code == 503
        assert refused.json() == {"detail": "the task queue is full (2 tasks waiting)"}
        assert refused.headers["retry-after"] == "1"
        with pytest.raises(QueueFull):
            app.add_task(print)
    finally:
        release.set()


def test_shutdown_waits_for_running_tasks_and_logs_the_queued_ones_it_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    app.enable_background_tasks(workers=1, shutdown_timeout=0.3)
    finished = threading.Event()

    def short() -> None:
        time.sleep(0.1)
        finished.set()

    with TestClient(app):
        running = app.add_task(short)
        queued = app.add_task(time.sleep, 1)  # starts after `short`, runs over the timeout
        never = app.add_task(print)  # behind it: never starts
        delayed = app.tasks.submit(print, delay=60)
        time.sleep(0.05)
    assert finished.is_set()
    assert app.tasks.get(running).state == "done"
    assert any(  # a thread cannot be stopped: it is logged, and left to the pool
        queued in r.getMessage() and "still running at shutdown" in r.getMessage()
        for r in caplog.records
    )
    for task_id in (never, delayed):
        status = app.tasks.get(task_id)
        assert (status.state, status.error) == ("failed", "not run: the app shut down first")
        assert any(task_id in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    with pytest.raises(QueueClosed):
        app.add_task(print)


def test_shutdown_cancels_async_tasks_still_running_at_its_timeout() -> None:
    app = App()
    app.enable_background_tasks(shutdown_timeout=0.1)
    with TestClient(app):
        task_id = app.add_task(asyncio.sleep, 10)
        time.sleep(0.05)
    status = app.tasks.get(task_id)
    assert status.state == "failed"
    assert status.error is not None
    assert status.error.startswith("CancelledError")


def test_an_idle_queue_costs_no_cpu() -> None:
    # The CPU time of this app's own threads (its loop, its pool), not the process's: threads
    # other tests left running would count in `time.process_time()`.
    before = {thread.ident for thread in threading.enumerate()}
    app = App(loop_block_threshold=None)  # the queue alone (the detector's idle cost: RESULTS)
    app.enable_background_tasks(workers=4)
    with TestClient(app) as client:
        wait_for(client, app, app.add_task(print, end=""))
        ours = [t.ident for t in threading.enumerate() if t.ident not in before and t.ident]

        def cpu() -> float:
            return sum(time.clock_gettime(time.pthread_getcpuclockid(i)) for i in ours)

        start_cpu, start = cpu(), time.monotonic()
        time.sleep(1.0)
        used = cpu() - start_cpu
        elapsed = time.monotonic() - start
    assert ours, "the app started no thread of its own"
    assert used / elapsed < 0.01, f"{used / elapsed:.1%} of a core while idle"


def test_status_of_an_unknown_task_is_none_and_old_results_are_dropped() -> None:
    app = App()
    app.enable_background_tasks(workers=1, keep_results=2)
    with TestClient(app) as client:
        ids = [app.add_task(len, "x" * n) for n in range(4)]
        wait_for(client, app, ids[-1])  # one worker: they finish in order
        assert app.tasks.status("nope") is None
        assert [app.tasks.get(i) is not None for i in ids] == [False, False, True, True]
        with pytest.raises(KeyError):
            wait_for(client, app, ids[0])


def test_schedule_task_needs_a_current_app() -> None:
    first, second = App(), App()
    first.enable_background_tasks()
    second.enable_background_tasks()
    with pytest.raises(ConfigurationError, match="several apps"):
        schedule_task(print)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers must be"),
        ({"max_queued": 0}, "max_queued"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"backoff": -1}, "backoff"),
        ({"shutdown_timeout": -1}, "shutdown_timeout"),
        ({"visibility_timeout": 5}, "visibility_timeout apply to a distributed backend"),
        ({"result_ttl": 5}, "result_ttl apply"),
    ],
)
def test_options_that_cannot_work_fail_at_registration(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App().enable_background_tasks(**kwargs)


def test_per_task_options_are_checked_at_submit() -> None:
    app = App()
    app.enable_background_tasks()
    with pytest.raises(ConfigurationError, match="delay"):
        app.tasks.submit(print, delay=-1)
    with pytest.raises(ConfigurationError, match="not callable"):
        app.add_task("print")  # type: ignore[arg-type]


def test_the_queue_must_be_enabled_once() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="not enabled"):
        app.add_task(print)
    app.enable_background_tasks()
    with pytest.raises(ConfigurationError, match="already enabled"):
        app.enable_background_tasks()


def test_failing_tasks_log_at_error_level_with_the_task_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "ambi.tasks")
    app = App()
    app.enable_background_tasks()
    with TestClient(app) as client:
        task_id = app.add_task(int, "not a number")
        assert wait_for(client, app, task_id).error.startswith("ValueError")
    assert [r.levelname for r in caplog.records if task_id in r.getMessage()] == ["ERROR"]
