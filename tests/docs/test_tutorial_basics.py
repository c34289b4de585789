"""The tutorial's first pages: first app, parameters, bodies, responses (docs/examples/tutorial)."""

from __future__ import annotations

from collections.abc import Callable

from docs.examples.tutorial import bodies, first_app, parameters, responses

from ambi import App
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def test_first_app(client_for: ClientFor) -> None:
    client = client_for(first_app.app)
    assert client.get("/").json() == {"message": "Hello, world"}
    assert client.get("/hello/ada").json() == {"message": "Hello, ada."}
    assert client.get("/hello/ada?excited=1").json() == {"message": "Hello, ada!"}
    assert client.head("/").status_code == 200
    wrong_method = client.post("/")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]
    slash = client.get("/hello/ada/", follow_redirects=False)
    assert (slash.status_code, slash.headers["location"]) == (307, "http://testserver/hello/ada")
    assert client.get("/docs").headers["content-type"].startswith("text/html")
    assert "/hello/{name}" in client.get("/openapi.json").json()["paths"]


def test_parameters(client_for: ClientFor) -> None:
    client = client_for(parameters.app)
    assert client.get("/items/5?q=saw").json() == {"item_id": 5, "q": "saw", "limit": 10}
    assert client.get("/items/five").status_code == 404  # {item_id:int} does not match
    too_big = client.get("/items/5?limit=101")
    assert too_big.status_code == 422
    assert too_big.json() == {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 100",
                "input": "101",
                "ctx": {"le": 100},
            }
        ]
    }
    user = client.get("/users/ada", headers={"user-agent": "curl/8"}).json()
    assert user == {"username": "ada", "user_agent": "curl/8"}
    assert client.get("/users/al").status_code == 422  # Path(min_length=3)
    assert client.get("/files/a/b/c.txt").json() == {"file_path": "a/b/c.txt"}
    assert client.get("/search?tags=a&tags=b").json() == {"tags": ["a", "b"]}
    assert client.get("/search").json() == {"tags": []}


def test_bodies(client_for: ClientFor) -> None:
    client = client_for(bodies.app)
    created = client.post("/items", json={"name": "saw", "price": 10})
    assert created.status_code == 201
    assert created.json() == {"name": "saw", "price_with_tax": 12.0, "tags": []}
    replaced = client.put("/items/3?notify=true", json={"name": "saw", "price": 1, "tags": ["x"]})
    assert replaced.json() == {
        "item_id": 3,
        "item": {"name": "saw", "price": 1.0, "tags": ["x"]},
        "notify": True,
    }


def test_validation_errors_name_every_field(client_for: ClientFor) -> None:
    client = client_for(bodies.app)
    response = client.post("/items", json={"name": "", "price": -1})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["body", "name"], "string_too_short"),
        (["body", "price"], "greater_than"),
    ]
    malformed = client.post(
        "/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["type"] == "json_invalid"
    not_json = client.post("/items", content=b"x", headers={"content-type": "text/plain"})
    assert not_json.status_code == 415


def test_responses(client_for: ClientFor) -> None:
    client = client_for(responses.app)
    created = client.post("/users", json={"username": "ada", "password": "pw"})
    assert created.status_code == 201
    assert created.json() == {"username": "ada"}
    page = client.get("/page")
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == "<h1>Hello</h1>"
    text = client.get("/text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == "plain text"
    accepted = client.get("/accepted")
    assert (accepted.status_code, accepted.json()) == (202, {"queued": True})
    cookie = client.get("/cookie")
    assert cookie.cookies["seen"] == "yes"
    assert cookie.json() == {"ok": True}


def test_errors(client_for: ClientFor) -> None:
    client = client_for(responses.app)
    assert client.get("/items/1").json() == {"item_id": 1}
    missing = client.get("/items/2")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no such item"}
    assert missing.headers["x-error"] == "missing"
    refused = client.post("/orders/saw")
    assert (refused.status_code, refused.json()) == (409, {"detail": "saw is out of stock"})


def test_examples_are_apps() -> None:
    for module in (bodies, first_app, parameters, responses):
        assert isinstance(module.app, App)
