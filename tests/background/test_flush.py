"""`app.tasks.flush()`: once it returns, every task submitted before it is with the broker
(its `queued` record written, its message sent), so a process killed right after loses
none of them. The in-process queue has nothing to wait for."""

from __future__ import annotations

import asyncio

import pytest

from ambi import App
from ambi.background import QueueClosed, current_tasks

from . import dist_app

pytestmark = pytest.mark.server


def test_after_flush_every_submitted_task_is_with_the_broker(backend: str, queue_name: str) -> None:
    app = App()
    app.enable_background_tasks(backend=backend, queue_name=queue_name)

    async def main() -> None:
        await app.startup()
        try:
            await asyncio.wait_for(app.tasks.flush(), 5)  # nothing submitted: at once
            ids = [app.add_task(dist_app.record, str(i)) for i in range(600)]  # > one batch
            await asyncio.wait_for(app.tasks.flush(), 10)
            statuses = [await app.tasks.status(i) for i in ids]
            assert all(s is not None and s.state == "queued" for s in statuses)
        finally:
            await app.shutdown()
        with pytest.raises(QueueClosed):
            await app.tasks.flush()

    asyncio.run(main())


def _jobs_app(backend: str, queue_name: str | None) -> App:
    app = App()
    app.enable_background_tasks(backend=backend, queue_name=queue_name)

    @app.post("/jobs")
    def enqueue() -> dict[str, object]:
        task_id = app.add_task(dist_app.record, "sync")
        current_tasks.flush(timeout=5)  # a plain call from a def handler (app.tasks too)
        return {"id": task_id, "status": app.tasks.status(task_id).state}

    return app


def test_flush_from_a_sync_handler_and_on_the_in_process_queue(
    backend: str, queue_name: str
) -> None:
    from ambi.testing import TestClient

    for app in (_jobs_app("memory", None), _jobs_app(backend, queue_name)):
        with TestClient(app) as client:
            response = client.post("/jobs")
        assert response.status_code == 200, response.text
        assert response.json()["status"] in ("queued", "running", "done")
