import pytest

from ambi import App, ConfigurationError, Router, SignatureError
from ambi.testing import TestClient


def test_routes_and_verbs(client_for, make_handler) -> None:
    app = App()
    for method in ["get", "post", "put", "patch", "delete", "options"]:
        getattr(app, method)("/verb")(make_handler(lambda m=method: {"method": m}))
    app.route("/multi", methods=["GET", "POST"])(make_handler(lambda: "multi"))
    app.add_route("/added", make_handler(lambda: "added"), methods=["PUT"])
    client = client_for(app)
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]:
        assert client.request(method, "/verb").json() == {"method": method.lower()}
    assert client.post("/multi").text == "multi"
    assert client.put("/added").text == "added"
    assert client.get("/added").status_code == 405


def test_include_router_with_prefixes(client_for, make_handler) -> None:
    users = Router(prefix="/users", tags=["users"])
    users.get("/{user_id:int}")(make_handler(lambda user_id: {"id": user_id}))
    app = App()
    app.include_router(users, prefix="/api")
    client = client_for(app)
    assert client.get("/api/users/7").json() == {"id": 7}
    assert app.routes[0].options["tags"] == ["users"]


def test_an_empty_path_is_the_prefix_itself(client_for) -> None:
    """As in FastAPI: `get("")` under the prefix "/items" serves "/items" (no redirect)."""
    items = Router(prefix="/items")
    items.get("")(lambda: "list")
    items.get("/")(lambda: "slash")
    app = App(redirect_slashes=False)
    app.include_router(items, prefix="/api")
    client = client_for(app)
    assert [r.path for r in app.routes] == ["/api/items", "/api/items/"]
    assert client.get("/api/items").text == "list"
    assert client.get("/api/items/").text == "slash"


def test_nested_routers(client_for) -> None:
    inner = Router(prefix="/inner")
    inner.get("/x")(lambda: "x")
    outer = Router(prefix="/outer")
    outer.include_router(inner)
    app = App()
    app.include_router(outer)
    assert client_for(app).get("/outer/inner/x").text == "x"


@pytest.mark.parametrize("prefix", ["no-slash", "/trailing/"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ConfigurationError):
        Router(prefix=prefix)
    with pytest.raises(ConfigurationError):
        App().include_router(Router(), prefix=prefix)


def test_bad_methods() -> None:
    app = App()
    with pytest.raises(ConfigurationError):
        app.route("/x", methods=["FETCH"])(lambda: None)
    with pytest.raises(ConfigurationError):
        app.route("/x", methods="GET")(lambda: None)


def test_conflict_raised_at_registration() -> None:
    app = App()
    app.get("/a/{x}")(lambda x: x)
    with pytest.raises(ConfigurationError, match="conflicts"):
        app.get("/a/{y}")(lambda y: y)


def test_path_param_missing_from_template_is_an_error() -> None:
    from ambi import Path

    with pytest.raises(SignatureError, match="not in the route's path template"):
        App().get("/a")(lambda x=Path(...): x)


def test_path_values_are_url_decoded(client_for) -> None:
    app = App()

    @app.get("/files/{name}")
    def get_file(name: str):
        return {"name": name}

    client = client_for(app)
    assert client.get("/files/hello%20world").json() == {"name": "hello world"}
    assert client.get("/files/caf%C3%A9").json() == {"name": "café"}


def test_head_for_every_get(client_for) -> None:
    app = App()
    app.get("/h")(lambda: {"hello": "world"})
    client = client_for(app)
    head = client.head("/h")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(b'{"hello":"world"}'))


def test_404_and_405(client_for) -> None:
    app = App()
    app.get("/only-get")(lambda: "ok")
    client = client_for(app)
    missing = client.get("/missing")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    wrong = client.post("/only-get")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD"
    assert wrong.json() == {"detail": "Method Not Allowed"}


def test_router_routes_added_without_app_work_with_testclient() -> None:
    app = App()
    router = Router()
    router.get("/r")(lambda: "r")
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/r").text == "r"
