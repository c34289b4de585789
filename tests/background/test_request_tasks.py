"""Per-request `BackgroundTasks`: as a parameter (handler and dependencies share one) and
created inside a handler (Cello's spelling); after the response, in order, sync and async,
a failing task logged and the next one still run."""

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, BackgroundTasks, Depends, Response
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def test_parameter_in_handler_and_dependency_is_one_object(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    done: list[str] = []

    async def notify(what: str) -> None:
        await asyncio.sleep(0)
        done.append(f"async {what}")

    def audit(what: str) -> None:
        done.append(f"sync {what} on {'loop' if _on_loop() else 'pool'}")

    def dependency(background_tasks: BackgroundTasks) -> BackgroundTasks:
        background_tasks.add_task(audit, "dependency")
        return background_tasks

    def handler(
        background_tasks: BackgroundTasks, same: BackgroundTasks = Depends(dependency)
    ) -> dict[str, bool]:
        background_tasks.add_task(notify, "handler")
        return {"same": same is background_tasks}

    app.post("/users")(make_handler(handler))
    response = client_for(app).post("/users")
    assert response.json() == {"same": True}
    assert done == ["sync dependency on pool", "async handler"]


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_created_inside_a_handler_it_runs_without_being_returned(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    done: list[Any] = []

    def handler(request: Any) -> Response:
        data = request.json()
        tasks = BackgroundTasks()
        tasks.add_task(done.append, ("email", data["order"]))
        tasks.add_task(done.append, ("inventory", data["items"]))
        return Response.json({"order_id": data["order"], "status": "created"}, status=201)

    app.post("/orders")(make_handler(handler))
    response = client_for(app).post("/orders", json={"order": 7, "items": [1, 2]})
    assert response.status_code == 201
    assert done == [("email", 7), ("inventory", [1, 2])]


def test_a_failing_task_is_logged_and_the_next_one_still_runs(
    app: App, client_for: ClientFor, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("smtp down")

    @app.get("/tasks")
    async def handler(tasks: BackgroundTasks) -> str:
        tasks.add_task(broken)
        tasks.add_task(done.append, "next")
        return "ok"

    with caplog.at_level(logging.ERROR, logger="ambi.background"):
        assert client_for(app).get("/tasks").text == "ok"
    assert done == ["next"]
    [record] = [r for r in caplog.records if "background task" in r.getMessage()]
    assert "broken" in record.getMessage()
    assert "GET /tasks" in record.getMessage()
    assert record.exc_info is not None


def test_tasks_added_by_the_background_work_itself_do_not_vanish() -> None:
    """A `BackgroundTasks()` made outside a request is a plain list run by `await`."""
    done: list[str] = []
    tasks = BackgroundTasks()
    tasks.add_task(done.append, "sync")

    async def later() -> None:
        done.append(threading.current_thread().name)

    tasks.add_task(later)
    asyncio.run(tasks())
    assert done == ["sync", "MainThread"]
    with pytest.raises(TypeError, match="callable"):
        tasks.add_task("not callable")  # type: ignore[arg-type]
