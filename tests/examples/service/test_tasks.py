"""Projects and tasks: per-user data on both engines (`def` routes on psycopg, `async def`
ones on asyncpg), and the task listing cached in Redis, invalidated by every write."""

from __future__ import annotations

import psycopg
import pytest
from examples.service.settings import Settings

from ambi import App
from ambi.testing import TestClient

from .conftest import new_project, sign_up


@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_task_lifecycle_across_def_and_async_routes(service_app: App, interface: str) -> None:
    with TestClient(service_app, interface=interface) as client:  # type: ignore[arg-type]
        _lifecycle(client)


def _lifecycle(client: TestClient) -> None:
    user = sign_up(client)
    headers = user["headers"]
    project = new_project(client, headers)  # def, sync engine
    base = f"/projects/{project}/tasks"
    created = client.post(
        base, json={"title": "write tests", "notes": "all of them"}, headers=headers
    )  # async def
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["title"], task["notes"], task["done"]) == ("write tests", "all of them", False)
    read = client.get(f"{base}/{task['id']}", headers=headers)  # def
    assert read.json() == task
    changed = client.patch(f"{base}/{task['id']}", json={"done": True}, headers=headers)  # def
    assert changed.status_code == 200
    assert changed.json()["done"] is True
    assert changed.json()["title"] == "write tests"
    assert changed.json()["updated_at"] > task["updated_at"]
    deleted = client.delete(f"{base}/{task['id']}", headers=headers)  # async def
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get(f"{base}/{task['id']}", headers=headers).status_code == 404
    assert client.delete(f"{base}/{task['id']}", headers=headers).status_code == 404
    listed = client.get("/projects", headers=headers).json()  # async def
    assert [p["id"] for p in listed] == [project]


def test_bad_input_is_a_422(client: TestClient) -> None:
    headers = sign_up(client)["headers"]
    project = new_project(client, headers)
    base = f"/projects/{project}/tasks"
    assert client.post(base, json={"title": ""}, headers=headers).status_code == 422
    assert client.post(
        base, content=b"{not json", headers={**headers, "content-type": "application/json"}
    ).status_code in (400, 422)
    assert client.get(f"{base}?limit=1000", headers=headers).status_code == 422
    assert client.patch(f"{base}/1", json={"done": "maybe"}, headers=headers).status_code == 422


def test_users_see_only_their_own_data(client: TestClient) -> None:
    alice, bob = sign_up(client), sign_up(client)
    project = new_project(client, alice["headers"], "alice's")
    base = f"/projects/{project}/tasks"
    task = client.post(base, json={"title": "secret"}, headers=alice["headers"]).json()
    assert client.get("/projects", headers=bob["headers"]).json() == []
    for method, url, body in (
        ("GET", base, None),
        ("POST", base, {"title": "intrusion"}),
        ("GET", f"{base}/{task['id']}", None),
        ("PATCH", f"{base}/{task['id']}", {"done": True}),
        ("DELETE", f"{base}/{task['id']}", None),
    ):
        refused = client.request(method, url, json=body, headers=bob["headers"])
        assert refused.status_code == 404, (method, url, refused.text)
    untouched = client.get(f"{base}/{task['id']}", headers=alice["headers"]).json()
    assert (untouched["title"], untouched["done"]) == ("secret", False)
    # a cached listing of alice's never answers bob
    assert client.get(base, headers=alice["headers"]).status_code == 200
    assert client.get(base, headers=bob["headers"]).status_code == 404


def _rename_behind_the_api(settings: Settings, task_id: int, title: str) -> None:
    """Change a row without the API (so without invalidation): shows what the cache holds."""
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("UPDATE tasks SET title = %s WHERE id = %s", (title, task_id))


def test_the_listing_is_cached_in_redis_and_writes_invalidate_it(
    client: TestClient, service_settings: Settings
) -> None:
    headers = sign_up(client)["headers"]
    project = new_project(client, headers)
    base = f"/projects/{project}/tasks"
    first = client.post(base, json={"title": "one"}, headers=headers).json()
    listing = client.get(base, headers=headers)
    assert [t["title"] for t in listing.json()] == ["one"]
    assert listing.headers["cache-control"].startswith("private")
    _rename_behind_the_api(service_settings, first["id"], "renamed behind the cache")
    cached = client.get(base, headers=headers)
    assert cached.json() == listing.json()  # from Redis: the database was not asked
    revalidated = client.get(base, headers={**headers, "if-none-match": listing.headers["etag"]})
    assert revalidated.status_code == 304
    # a write through an async route invalidates the project's entries
    client.post(base, json={"title": "two"}, headers=headers)
    assert [t["title"] for t in client.get(base, headers=headers).json()] == [
        "two",
        "renamed behind the cache",
    ]
    # ...and so does one through a def route
    _rename_behind_the_api(service_settings, first["id"], "renamed again")
    client.patch(f"{base}/{first['id']}", json={"done": True}, headers=headers)
    after = client.get(base, headers=headers).json()
    assert [(t["title"], t["done"]) for t in after] == [("two", False), ("renamed again", True)]
    # query parameters are part of the key
    assert [t["title"] for t in client.get(f"{base}?done=true", headers=headers).json()] == [
        "renamed again"
    ]
    import redis

    keys = redis.Redis.from_url(service_settings.redis_url).keys(
        f"{service_settings.redis_prefix}cache:*"
    )
    assert keys, "the cache entries live in Redis, under the service's prefix"
