"""The tutorial's feature pages: dependencies, background tasks, uploads, middleware, auth,
caching (docs/examples/tutorial)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from docs.examples.tutorial import (
    auth,
    background_tasks,
    caching,
    dependencies,
    middleware,
    uploads,
)

from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def test_dependencies(client_for: ClientFor) -> None:
    client = client_for(dependencies.app)
    dependencies.EVENTS.clear()
    response = client.get("/me", headers={"x-key": "secret", "x-user": "ada"})
    assert response.json() == {"name": "Ada Lovelace", "users": 1}
    assert dependencies.EVENTS == ["db opened", "db closed"]  # one Database, closed after
    assert client.get("/me", headers={"x-key": "wrong", "x-user": "ada"}).status_code == 403
    unknown = client.get("/me", headers={"x-key": "secret", "x-user": "bob"})
    assert (unknown.status_code, unknown.json()) == (401, {"detail": "unknown user"})


def test_background_tasks_run_after_the_response(client_for: ClientFor) -> None:
    client = client_for(background_tasks.app)
    background_tasks.SENT.clear()
    response = client.post("/signup/ada")
    assert response.json() == {"user": "ada", "tasks": 0}
    assert background_tasks.SENT == ["audit ada", "welcome ada@example.com"]


def test_uploads(client_for: ClientFor) -> None:
    client = client_for(uploads.app)
    data = b"\x89PNG" + b"x" * 5000
    response = client.post(
        "/avatar", data={"user": "ada"}, files={"file": ("me.png", data, "image/png")}
    )
    assert response.json() == {
        "user": "ada",
        "filename": "me.png",
        "content_type": "image/png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    many = client.post(
        "/attachments", files=[("files", ("a.txt", b"aaa")), ("files", ("b.txt", b"bb"))]
    )
    assert many.json() == {"a.txt": 3, "b.txt": 2}


def test_an_upload_over_its_limit_is_413(client_for: ClientFor) -> None:
    client = client_for(uploads.app, raise_server_exceptions=False)
    big = b"x" * 1_100_000
    response = client.post(
        "/avatar", data={"user": "ada"}, files={"file": ("big.bin", big, "application/x")}
    )
    assert response.status_code == 413


def test_middleware(client_for: ClientFor) -> None:
    client = client_for(middleware.app)
    response = client.get(
        "/report", headers={"origin": "https://app.example", "accept-encoding": "gzip"}
    )
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["server-timing"].startswith("app;dur=")
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["rows"]) == 200  # httpx decoded the gzip body
    other = client.get("/report", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_auth(client_for: ClientFor) -> None:
    client = client_for(auth.app)
    assert client.post("/token", data={"username": "ada", "password": "no"}).status_code == 400
    token = client.post("/token", data={"username": "ada", "password": "lovelace"}).json()
    assert token["token_type"] == "bearer"
    me = client.get("/users/me", headers={"authorization": f"Bearer {token['access_token']}"})
    assert me.json() == {"username": "ada"}
    anonymous = client.get("/users/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = client.get("/users/me", headers={"authorization": "Bearer forged"})
    assert (forged.status_code, forged.json()) == (401, {"detail": "Invalid token"})


@pytest.fixture
def cache_client(client_for: ClientFor) -> TestClient:
    client = client_for(caching.app)
    client.put("/products/1/price", json={"price": 12.0})  # also empties the cache (the tag)
    caching.CALLS["list"] = 0
    return client


def test_caching(cache_client: TestClient) -> None:
    first = cache_client.get("/products")
    second = cache_client.get("/products")
    assert first.json() == second.json()
    assert caching.CALLS["list"] == 1  # the second answer came from the cache
    assert "max-age" in first.headers["cache-control"]
    etag = first.headers["etag"]
    assert cache_client.get("/products", headers={"if-none-match": etag}).status_code == 304
    changed = cache_client.put("/products/1/price", json={"price": 9.5})
    assert changed.json()["price"] == 9.5
    after = cache_client.get("/products")  # invalidated by tag: the handler runs again
    assert caching.CALLS["list"] == 2
    assert after.json()["products"][0]["price"] == 9.5
