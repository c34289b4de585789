"""examples/shop.py: the typed example app behaves as its docstrings say."""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import App
from ambi.testing import TestClient

from ._load import load_example

shop = load_example("shop")
ClientFor = Callable[[App], TestClient]

ORDER = {
    "customer_id": 7,
    "email": "ada@example.com",
    "items": [{"sku": "A-1", "qty": 2, "price": 9.5}, {"sku": "B-2", "qty": 1, "price": 1}],
}


# Captured at collection, before any test (schemathesis included) adds items.
PRISTINE = {k: v.model_copy() for k, v in shop.ITEMS.items()}


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    shop.ITEMS.clear()
    shop.ITEMS.update({k: v.model_copy() for k, v in PRISTINE.items()})
    return client_for(shop.app)


def test_list_and_read_items(client: TestClient) -> None:
    assert [i["id"] for i in client.get("/items").json()] == [1, 2, 3]
    assert [i["id"] for i in client.get("/items?category=toys").json()] == [2]
    assert [i["id"] for i in client.get("/items?tags=birds").json()] == [3]
    assert client.get("/items/1?q=saw&limit=5").json()["name"] == "Hand saw"
    assert client.get("/items/99").status_code == 404
    assert client.get("/items/0").status_code == 422


def test_create_item(client: TestClient) -> None:
    response = client.post("/items", json={"name": "Ball", "price": 3, "category": "toys"})
    assert response.status_code == 201
    assert response.json() == {
        "id": 4,
        "name": "Ball",
        "price": 3.0,
        "category": "toys",
        "tags": [],
    }
    bad = client.post("/items", json={"name": "", "price": 0, "category": "food"})
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("body", "name"),
        ("body", "price"),
        ("body", "category"),
    }


def test_create_order_filters_its_response(client: TestClient) -> None:
    response = client.post("/orders", json=ORDER, headers={"X-Request-ID": "r1"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"order_id", "customer_id", "item_count", "total", "priority", "express"}
    assert (body["item_count"], body["total"]) == (2, 20.0)


def test_invalid_orders(client: TestClient) -> None:
    bad: dict[str, Any] = {**ORDER, "email": "nope", "items": [{"sku": "", "qty": 0, "price": 1}]}
    errors = {tuple(e["loc"]) for e in client.post("/orders", json=bad).json()["detail"]}
    assert errors == {("body", "email"), ("body", "items", 0, "sku"), ("body", "items", 0, "qty")}
    assert client.post("/orders", json={**ORDER, "items": []}).status_code == 422


def test_set_price_with_an_embedded_body(client: TestClient) -> None:
    response = client.put("/items/2/price", json={"price": 15, "reason": "sale"})
    assert response.json() == {"id": 2, "price": 15.0, "reason": "sale"}
    assert client.get("/items/2").json()["price"] == 15.0


def test_session_sources(client: TestClient) -> None:
    response = client.get("/me", headers={"cookie": "session=s1", "user-agent": "tests"})
    assert response.json() == {"session": "s1", "user_agent": "tests"}


def test_upload_and_login(client: TestClient) -> None:
    response = client.post(
        "/items/1/image", files={"image": ("a.png", b"PNG")}, data={"caption": "c"}
    )
    assert response.json() == {"item_id": 1, "filename": "a.png", "size": 3, "caption": "c"}
    assert client.post("/login", data={"username": "ada", "remember": "yes"}).json() == {
        "user": "ada",
        "remember": True,
    }


def test_legacy_search_and_health(client: TestClient) -> None:
    assert client.get("/legacy-search?term=saw").json() == {"term": "saw", "hits": [1]}
    assert client.get("/legacy-search?term=a b").status_code == 422
    assert client.get("/internal/health").json() == {"status": "ok"}
    assert "/internal/health" not in client.get("/openapi.json").json()["paths"]
