"""`run="process"`: inputs known not to pickle are refused at registration; the pool is
started with the app and closed with it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ambi import App, BackgroundTasks, File, Request, SignatureError, UploadFile
from ambi.testing import TestClient


def square(x: int) -> dict[str, int]:
    return {"square": x * x, "pid": os.getpid()}


def takes_request(request: Request) -> None: ...


def takes_tasks(tasks: BackgroundTasks) -> None: ...


def takes_upload(upload: UploadFile = File()) -> None: ...


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (takes_request, "cannot take the request"),
        (takes_tasks, "cannot take tasks"),
        (takes_upload, "cannot take uploaded files"),
    ],
)
def test_unpicklable_inputs_are_refused_at_registration(handler: Any, message: str) -> None:
    app = App()
    with pytest.raises(SignatureError, match=message):
        app.add_route("/", handler, run="process")


def test_the_pool_starts_and_stops_with_the_app(interface: str) -> None:
    app = App(process_workers=1)
    app.add_route("/square", square, run="process")
    with TestClient(app, interface=interface) as client:
        processes = app.engine.processes
        assert processes is not None
        assert len(processes.pids) == 1, "started at startup, before any request"
        answer = client.get("/square", params={"x": 7}).json()
        assert answer == {"square": 49, "pid": processes.pids[0]}
        children = list(processes._children.values())
    assert app.engine.processes is None
    assert [child.exitcode for child in children] == [0]


def test_no_pool_without_process_routes() -> None:
    app = App()
    app.add_route("/square", square)
    with TestClient(app) as client:
        assert client.get("/square", params={"x": 2}).json()["square"] == 4
        assert app.engine.processes is None
