"""The rest of the service: uploads, the audit trail written by a background task after
each write, `/stats` (a `def` route reaching the asyncpg pool through `smartasync`) beside
`/stats/async`, the OpenAPI document with its security scheme, and the metrics."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import psycopg
from examples.service.migrations import MIGRATIONS, migrate
from examples.service.settings import Settings

from ambi import App
from ambi.testing import TestClient

from .conftest import FIRST_MIGRATIONS, new_project, sign_up


def _audit(client: TestClient, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    """The audit trail once it holds `count` records (they are written after the
    responses, so a moment later), newest first."""
    deadline = time.monotonic() + 5
    while True:
        records: list[dict[str, Any]] = client.get("/audit", headers=headers).json()
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.02)


def test_every_write_is_audited_after_its_response(client: TestClient) -> None:
    headers = sign_up(client)["headers"]
    project = new_project(client, headers)  # def route
    base = f"/projects/{project}/tasks"
    task = client.post(base, json={"title": "a"}, headers=headers).json()  # async route
    client.patch(f"{base}/{task['id']}", json={"title": "b"}, headers=headers)  # def
    client.delete(f"{base}/{task['id']}", headers=headers)  # async
    records = _audit(client, headers, 4)
    assert [(r["action"], r["entity"], r["entity_id"]) for r in reversed(records)] == [
        ("create", "project", project),
        ("create", "task", task["id"]),
        ("update", "task", task["id"]),
        ("delete", "task", task["id"]),
    ]
    assert client.get("/audit?limit=0", headers=headers).status_code == 422


def test_upload_and_download(client: TestClient) -> None:
    owner, other = sign_up(client), sign_up(client)
    project = new_project(client, owner["headers"])
    task = client.post(
        f"/projects/{project}/tasks", json={"title": "with a file"}, headers=owner["headers"]
    ).json()
    url = f"/projects/{project}/tasks/{task['id']}/attachments"
    data = bytes(range(256)) * 1000
    uploaded = client.post(
        url, files={"file": ("notes.bin", data, "application/x-demo")}, headers=owner["headers"]
    )
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert (body["filename"], body["content_type"], body["size"]) == (
        "notes.bin",
        "application/x-demo",
        len(data),
    )
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    download = client.get(f"/attachments/{body['id']}", headers=owner["headers"])  # def
    assert download.content == data
    assert download.headers["content-type"] == "application/x-demo"
    assert client.get(f"/attachments/{body['id']}", headers=other["headers"]).status_code == 404
    too_big = client.post(
        url, files={"file": ("big.bin", b"x" * (5 * 1024 * 1024 + 1))}, headers=owner["headers"]
    )
    assert too_big.status_code == 413
    assert client.post(url, headers=owner["headers"]).status_code == 422  # no file
    assert _audit(client, owner["headers"], 3)[0]["entity"] == "attachment"


def test_stats_from_a_def_route_through_smartasync(
    client: TestClient, service_app: App, service_settings: Settings
) -> None:
    # as many threads as connections per pool (Settings.threads)
    assert service_app.engine.sync_workers == service_settings.pool_size
    headers = sign_up(client)["headers"]
    empty = {"projects": 0, "tasks": 0, "done": 0}
    assert client.get("/stats", headers=headers).json() == empty
    for name in ("a", "b"):
        project = new_project(client, headers, name)
        for title in ("x", "y", "z"):
            client.post(f"/projects/{project}/tasks", json={"title": title}, headers=headers)
    tasks = client.get(f"/projects/{project}/tasks", headers=headers).json()
    client.patch(
        f"/projects/{project}/tasks/{tasks[0]['id']}", json={"done": True}, headers=headers
    )
    expected = {"projects": 2, "tasks": 6, "done": 1}
    assert client.get("/stats", headers=headers).json() == expected  # def + smartasync
    assert client.get("/stats/async", headers=headers).json() == expected  # async def
    kinds = {r["path"]: r["kind"] for r in service_app.handler_stats()["routes"]}
    assert (kinds["/stats"], kinds["/stats/async"]) == ("thread", "async")


def test_openapi_documents_the_bearer_scheme(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["JWT"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    paths = document["paths"]
    assert paths["/projects/{project_id}/tasks"]["get"]["security"] == [{"JWT": []}]
    assert paths["/stats"]["get"]["security"] == [{"JWT": []}]
    assert "security" not in paths["/auth/login"]["post"]
    upload = paths["/projects/{project_id}/tasks/{task_id}/attachments"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert client.get("/docs").status_code == 200


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    headers = sign_up(client)["headers"]
    client.get("/stats", headers=headers)
    text = client.get("/metrics").text
    assert 'route="/stats"' in text
    assert 'route="/auth/login"' in text
    assert "ambi_http_requests_total" in text


def test_migrations_apply_once_even_when_workers_start_together(
    service_settings: Settings,
) -> None:
    """Three `migrate()` calls made the session's database at once: one applied every
    step (under the advisory lock), the others found nothing left to do."""
    assert sorted(FIRST_MIGRATIONS) == [[], [], [version for version, _, _ in MIGRATIONS]]
    assert migrate(service_settings.sync_url) == []
    with psycopg.connect(service_settings.dsn) as conn:
        versions = conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert [v for (v,) in versions] == [version for version, _, _ in MIGRATIONS]
