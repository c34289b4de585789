"""Trailing slashes (307 to the other spelling, as Starlette's redirect_slashes) and an
app's root_path."""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import APIRouter, App, ConfigurationError, Request
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def _app(**options: Any) -> App:
    app = App(**options)
    app.get("/items/")(lambda: ["list"])
    app.post("/items/")(lambda: "created")
    app.get("/items/{item_id}")(lambda item_id: {"item_id": item_id})
    app.get("/plain")(lambda: "plain")
    return app


def test_a_path_with_or_without_the_slash_is_redirected(client_for: ClientFor) -> None:
    client = client_for(_app())
    response = client.get("/items?limit=3", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/items/?limit=3"
    assert client.get("/plain/", follow_redirects=False).headers["location"] == (
        "http://testserver/plain"
    )
    assert client.get("/items/7/", follow_redirects=False).headers["location"].endswith("/items/7")
    followed = client.post("/items", json={"a": 1})  # 307 keeps the method
    assert (followed.status_code, followed.text) == (200, "created")
    assert client.get("/nothing", follow_redirects=False).status_code == 404
    assert client.get("/nothing/", follow_redirects=False).status_code == 404


def test_the_other_spelling_with_another_method_still_redirects(client_for: ClientFor) -> None:
    client = client_for(_app())
    response = client.delete("/items", follow_redirects=False)
    assert response.status_code == 307  # then 405 at /items/, as Starlette
    assert client.delete("/items").status_code == 405


def test_turned_off_for_the_app_a_router_or_a_route(client_for: ClientFor) -> None:
    assert client_for(_app(redirect_slashes=False)).get("/items").status_code == 404
    app = App()
    strict = APIRouter(prefix="/strict", redirect_slashes=False)
    strict.get("/a/")(lambda: "a")
    strict.get("/b/", redirect_slashes=True)(lambda: "b")
    app.include_router(strict)
    app.get("/c/", redirect_slashes=False)(lambda: "c")
    loose = APIRouter(prefix="/loose", redirect_slashes=True)
    loose.get("/d/")(lambda: "d")
    app.include_router(loose)
    client = client_for(app)
    assert client.get("/strict/a").status_code == 404
    assert client.get("/strict/b").text == "b"
    assert client.get("/c").status_code == 404
    assert client.get("/loose/d").text == "d"
    off = App(redirect_slashes=False)
    off.include_router(loose)  # the router's own setting wins over the app's
    assert client_for(off).get("/loose/d").text == "d"


def test_mounts_come_before_the_redirect(client_for: ClientFor) -> None:
    sub = App()
    sub.get("/")(lambda: "sub root")
    sub.get("/page/")(lambda: "page")
    app = App()
    app.get("/sub/")(lambda: "never: the mount takes /sub")
    app.mount("/sub", sub)
    client = client_for(app)
    response = client.get("/sub/page", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/sub/page/"  # the mount's prefix
    assert client.get("/sub/page").text == "page"


def test_root_path(client_for: ClientFor) -> None:
    app = App(root_path="/api/v1")

    @app.get("/items/")
    def items(request: Request) -> dict[str, str]:
        return {"path": request.path, "root": request.root_path, "url": str(request.url)}

    client = client_for(app)
    behind_proxy = client.get("/items/")  # the proxy took the prefix off
    assert behind_proxy.json() == {
        "path": "/items/",
        "root": "/api/v1",
        "url": "http://testserver/api/v1/items/",  # the URL the client used
    }
    direct = client.get("/api/v1/items/")
    assert direct.json() == {
        "path": "/items/",
        "root": "/api/v1",
        "url": "http://testserver/api/v1/items/",
    }
    assert client.get("/api/v1/items", follow_redirects=False).headers["location"] == (
        "http://testserver/api/v1/items/"
    )
    document = client.get("/openapi.json").json()
    assert document["servers"] == [{"url": "/api/v1"}]
    page = client.get("/docs").text
    assert '"url": "/api/v1/openapi.json"' in page
    assert "/api/v1/docs/static/swagger-ui-bundle.js" in page
    assert client.get("/api/v1/docs").text == page


def test_a_mounted_app_serves_its_docs_under_the_mount(client_for: ClientFor) -> None:
    sub = App(title="Sub")
    sub.get("/ping")(lambda: {"pong": True})
    app = App()
    app.mount("/subapi", sub)
    client = client_for(app)
    document = client.get("/subapi/openapi.json").json()
    assert document["servers"] == [{"url": "/subapi"}]  # as FastAPI's sub-applications
    assert list(document["paths"]) == ["/ping"]
    page = client.get("/subapi/docs").text
    assert '"url": "/subapi/openapi.json"' in page
    assert client.get("/subapi/docs/static/swagger-ui.css").status_code == 200
    assert "servers" not in client.get("/openapi.json").json()
    assert "servers" not in sub.openapi()


def test_root_path_servers_options() -> None:
    app = App(root_path="/api", servers=[{"url": "https://example.com", "description": "prod"}])
    assert app.openapi()["servers"] == [
        {"url": "/api"},
        {"url": "https://example.com", "description": "prod"},
    ]
    quiet = App(root_path="/api", root_path_in_servers=False)
    assert "servers" not in quiet.openapi()


@pytest.mark.parametrize("root_path", ["api", "/api/", 3])
def test_a_root_path_that_cannot_work_is_refused(root_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="root_path"):
        App(root_path=root_path)
