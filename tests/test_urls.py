"""`app.url_path_for(name, **params)`: routes by name, converters, quoting, mounts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ambi import App, NoMatchFound, Router


@pytest.fixture
def app(tmp_path: Path) -> App:
    app = App()
    app.get("/")(lambda: "home")

    @app.get("/items/{item_id:int}")
    def get_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    app.get("/users/{name}/files/{rest:path}", name="user_file")(lambda name, rest: "x")
    app.get("/things/{u:uuid}", name="thing")(lambda u: "x")
    app.get("/ratio/{r:float}", name="ratio")(lambda r: "x")
    app.get("/café", name="cafe")(lambda: "x")
    router = Router(prefix="/v1")
    router.get("/status", name="status")(lambda: "x")
    app.include_router(router, prefix="/api")
    app.mount_static("/static", tmp_path)
    return app


def test_paths_of_named_routes(app: App) -> None:
    assert app.url_path_for("get_item", item_id=3) == "/items/3"
    assert app.url_path_for("user_file", name="ada", rest="a/b c.txt") == (
        "/users/ada/files/a/b%20c.txt"
    )
    some = uuid.UUID(int=5)
    assert app.url_path_for("thing", u=some) == f"/things/{some}"
    assert app.url_path_for("ratio", r=1.5) == "/ratio/1.5"
    assert app.url_path_for("cafe") == "/caf%C3%A9"
    assert app.url_path_for("status") == "/api/v1/status"
    assert app.url_path_for("user_file", name="a?b#c", rest="x") == "/users/a%3Fb%23c/files/x"


def test_static_mount(app: App) -> None:
    assert app.url_path_for("static", path="css/site.css") == "/static/css/site.css"
    assert app.url_path_for("static", path="/css/site.css") == "/static/css/site.css"
    assert app.url_path_for("static", path="a b%.css") == "/static/a%20b%25.css"
    assert app.url_path_for("static") == "/static/"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("nope", {}),
        ("get_item", {}),
        ("get_item", {"item_id": "x"}),  # not an int
        ("get_item", {"item_id": 1, "extra": 2}),
        ("user_file", {"name": "a/b", "rest": "x"}),  # a slash in one segment
        ("user_file", {"name": "", "rest": "x"}),
        ("static", {"file": "x"}),
        ("static:inner", {}),  # not an ambi app
    ],
)
def test_no_match(app: App, name: str, params: dict[str, object]) -> None:
    with pytest.raises(NoMatchFound, match=repr(name)):
        app.url_path_for(name, **params)
    assert issubclass(NoMatchFound, LookupError)


def test_same_name_routes_picked_by_parameters() -> None:
    app = App()
    app.get("/a", name="list")(lambda: "x")
    app.get("/a/{page:int}", name="list")(lambda page: "x")
    assert app.url_path_for("list") == "/a"
    assert app.url_path_for("list", page=2) == "/a/2"


def test_routes_added_after_a_lookup(app: App) -> None:
    assert app.url_path_for("get_item", item_id=1) == "/items/1"
    app.get("/late")(lambda: "x")
    app.get("/later", name="later")(lambda: "x")
    assert app.url_path_for("later") == "/later"
