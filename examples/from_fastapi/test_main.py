"""The application's own tests, as a FastAPI user writes them."""

from ambi.testing import TestClient

from .main import app
from .routers.items import fake_items_db

client = TestClient(app)

TOKEN = {"X-Token": "fake-super-secret-token"}


def test_root() -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello Bigger Applications!"}


def test_read_items_with_or_without_the_trailing_slash() -> None:
    response = client.get("/items/", headers=TOKEN)
    assert response.status_code == 200
    assert {"name": "Plumbus", "price": 3.5, "description": None, "tax": 10.5, "tags": []} in (
        response.json()
    )
    redirected = client.get("/items", headers=TOKEN)  # followed: 307 to /items/
    assert redirected.status_code == 200
    assert [r.status_code for r in redirected.history] == [307]
    assert redirected.url.path == "/items/"
    assert redirected.json() == response.json()


def test_read_item_leaves_out_what_was_never_set() -> None:
    response = client.get("/items/plumbus", headers=TOKEN)
    assert response.status_code == 200
    assert response.json() == {"name": "Plumbus", "price": 3.5}


def test_read_missing_item() -> None:
    response = client.get("/items/nope", headers=TOKEN)
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}
    assert response.headers["x-error"] == "missing"


def test_bad_token() -> None:
    response = client.get("/items/plumbus", headers={"X-Token": "hailhydra"})
    assert response.status_code == 400
    assert response.json() == {"detail": "X-Token header invalid"}


def test_missing_token() -> None:
    response = client.get("/items/plumbus")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "missing",
                "loc": ["header", "x-token"],
                "msg": "Field required",
                "input": None,
            }
        ],
        "body": None,
    }


def test_create_item() -> None:
    response = client.post(
        "/items/", headers=TOKEN, json={"name": "Meeseeks Box", "price": 9.99, "tags": ["tool"]}
    )
    assert response.status_code == 201
    assert response.headers["location"] == "/items/meeseeks-box"
    assert response.headers["x-api-version"] == "2"
    assert response.json() == {
        "name": "Meeseeks Box",
        "description": None,
        "price": 9.99,
        "tax": 10.5,
        "tags": ["tool"],
    }
    assert fake_items_db["meeseeks-box"]["tags"] == ["tool"]
    again = client.post("/items/", headers=TOKEN, json={"name": "Meeseeks Box", "price": 1})
    assert again.status_code == 409


def test_create_invalid_item_echoes_the_body() -> None:
    body = {"name": "Free lunch", "price": 0}
    response = client.post("/items/", headers=TOKEN, json=body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "greater_than",
                "loc": ["body", "price"],
                "msg": "Input should be greater than 0",
                "input": 0,
                "ctx": {"gt": 0.0},
            }
        ],
        "body": body,
    }


def test_create_item_without_a_body() -> None:
    response = client.post("/items/", headers=TOKEN)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_update_item() -> None:
    response = client.put(
        "/items/plumbus", headers=TOKEN, json={"name": "Plumbus", "price": 4.0, "tax": 1.0}
    )
    assert response.status_code == 200
    assert response.json() == {
        "name": "Plumbus",
        "description": None,
        "price": 4.0,
        "tax": 1.0,
        "tags": [],
    }


def test_update_another_item_is_forbidden() -> None:
    response = client.put("/items/gun", headers=TOKEN, json={"name": "Gun", "price": 1})
    assert response.status_code == 403
    assert response.json() == {"detail": "You can only update the item: plumbus"}


def test_patch_changes_only_what_is_sent() -> None:
    response = client.patch("/items/gun", headers=TOKEN, json={"tags": ["sci-fi"]})
    assert response.status_code == 200
    assert response.json() == {"name": "Portal Gun", "price": 42.0, "tax": 10.5, "tags": ["sci-fi"]}


def test_users_never_show_passwords() -> None:
    created = client.post(
        "/users/", json={"username": "morty", "password": "aw-jeez", "email": "morty@example.com"}
    )
    assert created.status_code == 201
    assert created.json() == {
        "username": "morty",
        "email": "morty@example.com",
        "full_name": None,
    }
    assert all("password" not in user for user in client.get("/users").json())


def test_login_sets_a_cookie_the_client_keeps() -> None:
    client.cookies.clear()
    assert client.get("/users/me").status_code == 401
    response = client.post("/login", data={"username": "rick", "password": "wubba"})
    assert response.status_code == 200
    assert response.json() == {"message": "Welcome rick"}
    assert "httponly" in response.headers["set-cookie"].lower()
    me = client.get("/users/me")  # the cookie is sent back
    assert me.json() == {"username": "rick", "email": "rick@example.com"}
    client.cookies.clear()


def test_wrong_password() -> None:
    response = client.post("/login", data={"username": "rick", "password": "nope"})
    assert response.status_code == 401


def test_unicorn_exception_handler() -> None:
    assert client.get("/unicorns/shiny").json() == {"unicorn_name": "shiny"}
    response = client.get("/unicorns/yolo")
    assert response.status_code == 418
    assert response.json() == {"message": "Oops! yolo did something. There goes a rainbow..."}


def test_webhook_reads_the_raw_request() -> None:
    response = client.post("/webhooks/github", json={"event": "push", "commits": [1, 2]})
    assert response.status_code == 202
    size = len(response.request.content)
    assert response.json() == {"source": "github", "event": "push", "size": size}


def test_the_mounted_legacy_app() -> None:
    assert client.get("/legacy/ping").json() == {"legacy": True}


def test_who_is_asking() -> None:
    assert client.get("/whoami").json() == {"client": "testclient", "agent": "testclient"}


def test_openapi_document() -> None:
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "Shop"
    assert [tag["name"] for tag in document["tags"]] == ["items", "users"]
    read_item = document["paths"]["/items/{item_id}"]["get"]
    assert read_item["operationId"] == "read_item_items__item_id__get"
    assert read_item["tags"] == ["items"]
    assert read_item["responses"]["404"] == {"description": "Not found"}
    login = document["paths"]["/login"]["post"]["requestBody"]["content"]
    assert login["application/x-www-form-urlencoded"]["schema"] == {
        "$ref": "#/components/schemas/Body_login_login_post"
    }
