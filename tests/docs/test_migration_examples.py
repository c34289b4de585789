"""The migration pages' ported examples (docs/examples/migration).

The FastAPI one runs twice: as written (on ambi) and with its FastAPI import lines put
back (on FastAPI), through the same assertions, so the page's import table is checked
both ways.
"""

from __future__ import annotations

import re
import time
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from docs.examples.migration import catzilla_app, cello_app, fastapi_app

from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def _on_fastapi() -> Any:
    """fastapi_app.py with each `from ambi...` import replaced by the FastAPI line above it."""
    source = Path(fastapi_app.__file__).read_text()
    source = re.sub(r"^# (from fastapi.*)\n(?:from ambi.*\n)+", r"\1\n", source, flags=re.M)
    assert "ambi" not in source.replace('"""A FastAPI program on ambi', "")
    module = types.ModuleType("fastapi_app_on_fastapi")
    exec(compile(source, "fastapi_app_on_fastapi.py", "exec"), module.__dict__)
    return module


@pytest.fixture(params=["ambi", "fastapi"])
def fastapi_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "ambi":
        fastapi_app.fake_db.clear()
        with TestClient(fastapi_app.app) as client:
            yield client
    else:
        with warnings.catch_warnings():  # Starlette's TestClient would like httpx2
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient as FastAPITestClient

        module = _on_fastapi()
        assert type(module.app).__module__.startswith("fastapi")
        with FastAPITestClient(module.app) as client:
            yield client


def test_the_fastapi_program(fastapi_client: Any) -> None:
    client = fastapi_client
    created = client.post("/items/", json={"name": "saw", "price": 12, "secret_note": "x"})
    assert (created.status_code, created.json()) == (201, {"name": "saw", "price": 12.0})
    client.post("/items/", json={"name": "level", "price": 20})
    assert client.get("/items/?limit=1").json() == {"items": ["level"], "skip": 0, "limit": 1}
    assert client.get("/items?skip=1").json() == {"items": ["saw"], "skip": 1, "limit": 10}
    assert client.get("/items/saw").json() == {"name": "saw", "price": 12.0}
    missing = client.get("/items/drill")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Item not found"})
    assert client.get("/items/?limit=101").json()["detail"][0]["loc"] == ["query", "limit"]
    home = client.get("/")
    assert (home.headers["content-type"], home.text) == (
        "text/html; charset=utf-8",
        "<h1>Items</h1>",
    )


def test_the_catzilla_program(client_for: ClientFor) -> None:
    client = client_for(catzilla_app.app)
    catzilla_app.PROCESSED.clear()
    assert client.get("/sync").json() == {"type": "sync", "execution": "thread_pool"}
    assert client.get("/async").json() == {"type": "async", "execution": "event_loop"}
    assert client.get("/users/7").json() == {"user_id": 7}
    assert client.get("/search?q=saw").json() == {"q": "saw", "limit": 10}
    assert client.get("/search").status_code == 422
    created = client.post("/users", json={"name": "Ada", "age": 36})
    assert (created.status_code, created.json()) == (201, {"created": {"name": "Ada", "age": 36}})
    assert client.post("/users", json={"name": "", "age": -1}).status_code == 422
    echoed = client.post("/echo", content=b'{"a": 1}', headers={"content-type": "application/json"})
    assert echoed.json() == {"bytes": 8, "json": {"a": 1}}
    uploaded = client.post("/upload", files={"file": ("a.txt", b"12345")})
    assert uploaded.json() == {"filename": "a.txt", "size": 5}
    deadline = time.monotonic() + 5
    while not catzilla_app.PROCESSED and time.monotonic() < deadline:
        time.sleep(0.01)
    assert catzilla_app.PROCESSED == ["a.txt:5"]
    stats = client.get("/handler-stats").json()
    assert (stats["total_handlers"], stats["sync_handlers"], stats["async_handlers"]) == (8, 5, 3)


SECRET = cello_app.JWT_SECRET


def _bearer(roles: list[str]) -> dict[str, str]:
    token = jwt.encode({"exp": time.time() + 60, "roles": roles}, SECRET, algorithm="HS256")
    return {"authorization": f"Bearer {token}"}


def test_the_cello_program(client_for: ClientFor) -> None:
    client = client_for(cello_app.app)
    cello_app.SENT.clear()
    profile = client.get("/profile", headers={"authorization": "Bearer token-ada"})
    assert profile.json() == {"name": "Ada", "email": "ada@example.com"}
    assert cello_app.app.db.events == ["acquire", "release"]
    stranger = client.get("/profile", headers={"authorization": "Bearer nobody"})
    assert (stranger.status_code, stranger.json()) == (401, {"detail": "Invalid token"})
    order = client.post("/orders", json={"id": 7})
    assert (order.status_code, order.json()) == (201, {"order_id": 7, "status": "created"})
    assert cello_app.SENT == ["order 7"]
    assert client.get("/items").json() == {"items": [{"name": "saw"}]}
    assert client.post("/items", json={"name": "level", "price": 2}).status_code == 401
    viewer = client.post("/items", json={"name": "level", "price": 2}, headers=_bearer(["x"]))
    assert viewer.status_code == 403
    editor = client.post("/items", json={"name": "level", "price": 2}, headers=_bearer(["editor"]))
    assert editor.json() == {"name": "level"}
    assert client.get("/items").json() == {"items": [{"name": "saw"}]}  # cached for 120 s
    assert client.get("/items").headers["ratelimit-limit"].startswith("100")  # the bucket
