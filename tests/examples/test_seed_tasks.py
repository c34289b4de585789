"""The seeds' background-task examples, with only their imports changed: seed 001's
`upload_file` + `schedule_task(process_file_async, file_path)` and the FastAPI seed's
`/analyze` answering a task id. In-process over ASGI and RSGI; and with the Redis backend,
served by a real `ambi run` server with an `ambi worker` process beside it."""

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
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ambi import App
from ambi.testing import TestClient

from .seeds import c001_upload_file, c004_analyze

ClientFor = Callable[[App], TestClient]
ROOT = Path(__file__).parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"


def test_upload_file_schedules_process_file_async(
    client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduled: list[str] = []
    real = c001_upload_file.schedule_task

    def spy(fn: Callable[..., Any], *args: Any) -> str:  # the seed drops the id: keep it
        task_id = real(fn, *args)
        scheduled.append(task_id)
        return task_id

    monkeypatch.setattr(c001_upload_file, "schedule_task", spy)
    client = client_for(c001_upload_file.app)
    started = time.monotonic()
    response = client.post("/upload-file", files={"file": ("photo.png", b"\x89PNG" * 256)})
    assert time.monotonic() - started < 1.5  # the 2 s processing does not delay the answer
    assert response.status_code == 201
    body = response.json()
    assert body["file"]["filename"] == "photo.png"
    assert body["file"]["size"] == 1024
    assert Path(body["file"]["path"]).read_bytes() == b"\x89PNG" * 256
    assert body["processing"] == "scheduled in background"
    (task_id,) = scheduled
    status = c001_upload_file.app.tasks.status(task_id)
    assert status.state in ("queued", "running")
    assert status.name == "tests.examples.seeds.c001_upload_file.process_file_async"
    done = c001_upload_file.app.tasks.wait(task_id, 10)
    assert (done.state, done.attempts) == ("done", 1)
    assert done.duration >= 1.9


def test_analyze_answers_a_task_id_whose_status_holds_the_statistics(
    client_for: ClientFor,
) -> None:
    client = client_for(c004_analyze.app)
    response = client.post("/analyze", json={"values": [1.0, 2.5, 4.5]})
    assert response.status_code == 200
    task_id = response.json()["task_id"]
    done = c004_analyze.app.tasks.wait(task_id, 10)
    assert done.state == "done"
    assert done.result == {"count": 3, "mean": 8 / 3, "max": 4.5}


def test_analyze_rejects_a_bad_body(client_for: ClientFor) -> None:
    response = client_for(c004_analyze.app).post("/analyze", json={"values": ["x"]})
    assert response.status_code == 422


# With the Redis backend: a real server and a worker process ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_served(tmp_path: Path) -> Iterator[Callable[[str], tuple[str, str]]]:
    """`serve("module:attr")` -> (base URL, queue name): the app under `ambi run` with the
    Redis backend, and one `ambi worker` for it."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    procs: list[subprocess.Popen[bytes]] = []
    queues: list[str] = []

    def serve(target: str) -> tuple[str, str]:
        queue = f"seed{uuid.uuid4().hex[:10]}"
        queues.append(queue)
        env = {
            **os.environ,
            "AMBI_SEED_TASKS_BACKEND": REDIS_URL,
            "AMBI_SEED_TASKS_QUEUE": queue,
        }
        port = _free_port()
        with (tmp_path / f"{queue}.log").open("wb") as log:
            procs.extend(
                subprocess.Popen(
                    [sys.executable, "-m", "ambi.cli", *argv],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                for argv in (["run", target, "--port", str(port)], ["worker", target])
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    return base, queue
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise AssertionError((tmp_path / f"{queue}.log").read_text())
            time.sleep(0.1)

    yield serve
    for proc in procs:
        _stop(proc)
    client = redis.Redis.from_url(REDIS_URL)
    for queue in queues:
        keys = list(client.scan_iter(f"ambi:{queue}:*"))
        if keys:
            client.delete(*keys)


def _status_reader(queue: str) -> App:
    app = App()
    app.enable_background_tasks(backend=REDIS_URL, queue_name=queue)
    return app


def _wait_status(queue: str, task_id: str) -> Any:
    app = _status_reader(queue)

    async def wait() -> Any:
        await app.startup()
        try:
            return await app.tasks.wait(task_id, 20)
        finally:
            await app.shutdown()

    return asyncio.run(wait())


@pytest.mark.server
def test_analyze_with_the_redis_backend(redis_served: Callable[[str], tuple[str, str]]) -> None:
    base, queue = redis_served("tests.examples.seeds.c004_analyze:app")
    response = httpx.post(f"{base}/analyze", json={"values": [2, 4]}, timeout=10)
    assert response.status_code == 200
    done = _wait_status(queue, response.json()["task_id"])
    assert (done.state, done.result) == ("done", {"count": 2, "mean": 3.0, "max": 4.0})


@pytest.mark.server
def test_upload_file_with_the_redis_backend(
    redis_served: Callable[[str], tuple[str, str]],
) -> None:
    base, queue = redis_served("tests.examples.seeds.c001_upload_file:app")
    response = httpx.post(f"{base}/upload-file", files={"file": ("a.txt", b"hello")}, timeout=10)
    assert response.status_code == 201
    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + 10
    while not (keys := list(client.scan_iter(f"ambi:{queue}:task:*"))):  # sent after the answer
        assert time.monotonic() < deadline, "no task was queued"
        time.sleep(0.05)
    (key,) = keys  # the one task it scheduled
    task_id = key.decode().rpartition(":")[2]  # type: ignore[union-attr]
    done = _wait_status(queue, task_id)
    assert (done.state, done.name) == (
        "done",
        "tests.examples.seeds.c001_upload_file.process_file_async",
    )
