"""Request bodies as arguments: models, dataclasses and lists, embedded and optional
bodies, and the bodies that cannot be read (415, 422, 400), over `def` and `async def`
handlers and the ASGI and RSGI adapters (fixtures `make_handler` and `client_for`)."""

from dataclasses import dataclass
from typing import Any, Optional

import pytest

from ambi import BaseModel, Body, Field, Request
from ambi.testing import TestClient

from ._serve import ClientFor, Item, MakeHandler, detail, serve

# Bodies -----------------------------------------------------------------------------------


class Basket(BaseModel):
    data: list[Item] = Field(min_items=1)
    kind: str = Field("standard", regex=r"^(standard|premium)$")


@dataclass
class Point:
    x: int
    y: int


def test_a_model_body(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(basket: Basket) -> dict[str, Any]:
        return {"ids": [i.id for i in basket.data], "kind": basket.kind}

    client = serve(client_for, make_handler, handler, method="POST")
    assert client.post("/t", json={"data": [{"id": 1}, {"id": 2}]}).json() == {
        "ids": [1, 2],
        "kind": "standard",
    }
    errors = detail(client.post("/t", json={"data": [{"id": 1}, {"id": 0, "name": "toolong"}]}))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["body", "data", 1, "id"], "greater_than_equal"),
        (["body", "data", 1, "name"], "string_too_long"),
    ]
    assert errors[0]["input"] == 0


def test_bodies_of_every_inferred_kind(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(request: Request, points: list[Point], limit: int = 10) -> dict[str, Any]:
        return {"sum": sum(p.x + p.y for p in points), "limit": limit, "req": request.method}

    client = serve(client_for, make_handler, handler, method="POST")
    response = client.post("/t?limit=3", json=[{"x": 1, "y": 2}, {"x": 3, "y": 4}])
    assert response.json() == {"sum": 10, "limit": 3, "req": "POST"}
    assert detail(client.post("/t", json=[{"x": 1}]))[0]["loc"] == ["body", 0, "y"]


@pytest.mark.parametrize(
    ("annotation", "payload", "expected"),
    [
        (dict, {"a": 1}, {"a": 1}),
        (list[dict], [{"a": 1}], [{"a": 1}]),
        (dict[str, int], {"a": "1"}, {"a": 1}),
        (list[Item], [{"id": 1}], [{"id": 1, "name": None}]),
        (Optional[list[Point]], [{"x": 1, "y": 2}], [{"x": 1, "y": 2}]),  # noqa: UP045
    ],
)
def test_body_type_inference(
    client_for: ClientFor, make_handler: MakeHandler, annotation: Any, payload: Any, expected: Any
) -> None:
    def handler(data: Any) -> Any:
        return data

    handler.__annotations__["data"] = annotation
    client = serve(client_for, make_handler, handler, method="POST")
    response = client.post("/t", json=payload)
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_several_bodies_embed_by_name(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(item: Item, point: Point, note: str = Body("", max_length=3)) -> list[Any]:
        return [item.id, point.x, note]

    client = serve(client_for, make_handler, handler, method="POST")
    payload = {"item": {"id": 1}, "point": {"x": 2, "y": 3}}
    assert client.post("/t", json=payload).json() == [1, 2, ""]
    errors = detail(client.post("/t", json={"item": {"id": 0}, "note": "long"}))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["body", "item", "id"], "greater_than_equal"),
        (["body", "point"], "missing"),
        (["body", "note"], "string_too_long"),
    ]


def test_embed_one_body(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(
        item: Item = Body(embed=True), count: int = Body(1, embed=True, alias="n")
    ) -> list[Any]:
        return [item.id, count]

    client = serve(client_for, make_handler, handler, method="POST")
    assert client.post("/t", json={"item": {"id": 4}, "n": 2}).json() == [4, 2]
    assert detail(client.post("/t")) == [
        {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": None}
    ]  # FastAPI's input for a missing embedded field


def test_embedded_bodies_that_are_all_optional(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(a: int = Body(1, embed=True), b: str = Body("x", embed=True)) -> list[Any]:
        return [a, b]

    client = serve(client_for, make_handler, handler, method="POST")
    assert client.post("/t").json() == [1, "x"]
    assert client.post("/t", json={"b": "y"}).json() == [1, "y"]


def test_optional_and_scalar_bodies(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(item: Item | None = None) -> Any:
        return None if item is None else item.id

    client = serve(client_for, make_handler, handler, method="POST")
    assert client.post("/t").json() is None
    assert client.post("/t", json={"id": 3}).json() == 3

    def scalar(count: int = Body(...)) -> int:
        return count * 2

    client = serve(client_for, make_handler, scalar, method="POST")
    assert client.post("/t", json=21).json() == 42


# Unreadable bodies ------------------------------------------------------------------------


@pytest.fixture
def basket_client(client_for: ClientFor, make_handler: MakeHandler) -> TestClient:
    def handler(basket: Basket) -> int:
        return len(basket.data)

    return serve(client_for, make_handler, handler, method="POST")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.api+json", None],
)
def test_json_content_types(basket_client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = basket_client.post("/t", content=b'{"data": [{"id": 1}]}', headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_of_another_type_is_415(basket_client: TestClient, content_type: str) -> None:
    response = basket_client.post(
        "/t", content=b'{"data": []}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert content_type in response.json()["detail"]


def test_malformed_json_is_422_json_invalid(basket_client: TestClient) -> None:
    response = basket_client.post(
        "/t", content=b'{"data": [}', headers={"content-type": "application/json"}
    )
    assert detail(response) == [  # FastAPI's: the position in the text, Python's message
        {
            "type": "json_invalid",
            "loc": ["body", 10],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]
    assert basket_client.post("/t", json={"data": [{"id": 1}]}).json() == 1


@pytest.mark.parametrize("body", [b"\xff\xfe\x00", b'{"data": "\xe9"}'])
def test_a_body_that_is_not_utf8_is_400(basket_client: TestClient, body: bytes) -> None:
    response = basket_client.post("/t", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["detail"]
