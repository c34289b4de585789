"""Arguments from each source, validated in one call, over `def` and `async def` handlers and
the ASGI and RSGI adapters (fixtures `make_handler` and `client_for`)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import pytest

from ambi import App, BaseModel, Body, Cookie, Field, Header, Path, Query, Request
from ambi.testing import TestClient

MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]
ClientFor = Callable[[App], TestClient]


def serve(
    client_for: ClientFor,
    make_handler: MakeHandler,
    fn: Callable[..., Any],
    path: str = "/t",
    method: str = "GET",
    **options: Any,
) -> TestClient:
    app = App()
    app.route(path, methods=[method], **options)(make_handler(fn))
    return client_for(app)


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    result: list[dict[str, Any]] = response.json()["detail"]
    return result


# Query ------------------------------------------------------------------------------------


def test_query_scalars_with_constraints(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(n: int = Query(100, ge=2, le=10000), name: str = "x") -> dict[str, Any]:
        return {"n": n, "name": name}

    client = serve(client_for, make_handler, handler)
    assert client.get("/t").json() == {"n": 100, "name": "x"}
    assert client.get("/t?n=5&name=y").json() == {"n": 5, "name": "y"}
    assert detail(client.get("/t?n=1")) == [
        {
            "type": "greater_than_equal",
            "loc": ["query", "n"],
            "msg": "Input should be greater than or equal to 2",
            "input": "1",
            "ctx": {"ge": 2},
        }
    ]


def test_a_required_query_parameter(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(user_id: int) -> int:
        return user_id

    client = serve(client_for, make_handler, handler)
    assert client.get("/t?user_id=3").json() == 3
    assert detail(client.get("/t")) == [
        {"type": "missing", "loc": ["query", "user_id"], "msg": "Field required", "input": None}
    ]


def test_every_failing_field_is_listed_at_once(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(a: int, b: float = Query(0, gt=0), c: bool = False) -> None:
        return None

    errors = detail(serve(client_for, make_handler, handler).get("/t?b=-1&c=maybe"))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["query", "a"], "missing"),
        (["query", "b"], "greater_than"),
        (["query", "c"], "bool_parsing"),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True), ("True", True), ("1", True), ("yes", True), ("on", True), ("y", True),
        ("false", False), ("0", False), ("no", False), ("off", False), ("OFF", False), ("n", False),
    ],
)  # fmt: skip
def test_booleans(
    client_for: ClientFor, make_handler: MakeHandler, raw: str, expected: bool
) -> None:
    def handler(flag: bool = Query(...)) -> bool:
        return flag

    assert serve(client_for, make_handler, handler).get(f"/t?flag={raw}").json() is expected


def test_optional_query_parameters(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(
        q: str | None = None,
        limit: Optional[int] = None,  # noqa: UP045 - the typing spelling, on purpose
        tag: Annotated[str | None, Query()] = None,
    ) -> list[Any]:
        return [q, limit, tag]

    client = serve(client_for, make_handler, handler)
    assert client.get("/t").json() == [None, None, None]
    assert client.get("/t?q=a&limit=3&tag=x").json() == ["a", 3, "x"]
    assert client.get("/t?q=").json() == ["", None, None]  # present but empty is ""
    assert detail(client.get("/t?limit="))[0]["type"] == "int_parsing"  # as in FastAPI


def test_query_lists_come_from_repeated_keys(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(
        tags: list[str] = Query([]),
        ids: list[int] | None = None,
        pair: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        return {"tags": tags, "ids": ids, "pair": pair}

    client = serve(client_for, make_handler, handler)
    assert client.get("/t").json() == {"tags": [], "ids": None, "pair": None}
    assert client.get("/t?tags=a&tags=b&ids=1&ids=2&pair=3&pair=4").json() == {
        "tags": ["a", "b"],
        "ids": [1, 2],
        "pair": [3, 4],
    }
    assert detail(client.get("/t?ids=1&ids=x"))[0]["loc"] == ["query", "ids", 1]


def test_query_list_constraints_with_v1_spellings(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(tags: list[str] = Query([], min_items=1, max_items=2)) -> list[str]:
        return tags

    client = serve(client_for, make_handler, handler)
    assert client.get("/t?tags=a").json() == ["a"]
    assert detail(client.get("/t?tags=a&tags=b&tags=c"))[0]["type"] == "too_long"


def test_query_alias_regex_and_annotated(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(
        item_query: str = Query("none", alias="item-query", regex=r"^[a-z]+$"),
        size: Annotated[int, Query(ge=1)] = 5,
    ) -> list[Any]:
        return [item_query, size]

    client = serve(client_for, make_handler, handler)
    assert client.get("/t?item-query=abc&size=2").json() == ["abc", 2]
    assert client.get("/t?item_query=abc").json() == ["none", 5]
    errors = detail(client.get("/t?item-query=ABC&size=0"))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["query", "item-query"], "string_pattern_mismatch"),
        (["query", "size"], "greater_than_equal"),
    ]


def test_annotated_field_constraints_are_kept(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(n: Annotated[int, Field(ge=10)] = 10) -> int:
        return n

    client = serve(client_for, make_handler, handler)
    assert detail(client.get("/t?n=9"))[0]["loc"] == ["query", "n"]


def test_default_factory(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(tags: list[str] = Query(default_factory=lambda: ["x"])) -> list[str]:
        return tags

    client = serve(client_for, make_handler, handler)
    assert client.get("/t").json() == ["x"]


# Path -------------------------------------------------------------------------------------


def test_path_parameters_without_a_marker(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(service: str, item_id: int) -> list[Any]:
        return [service, item_id]

    client = serve(client_for, make_handler, handler, "/api-gateway/{service}/{item_id}")
    assert client.get("/api-gateway/users/5").json() == ["users", 5]
    assert detail(client.get("/api-gateway/users/five")) == [
        {
            "type": "int_parsing",
            "loc": ["path", "item_id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "five",
        }
    ]


def test_path_converters_and_markers(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(
        num: Annotated[int, Path(ge=1)], ident: uuid.UUID, text: str, rest: str
    ) -> list[Any]:
        return [num, str(ident), text, rest]

    ident = uuid.uuid4()
    client = serve(
        client_for, make_handler, handler, "/x/{num:int}/{ident:uuid}/{text:int}/{rest:path}"
    )
    assert client.get(f"/x/3/{ident}/42/a/b").json() == [3, str(ident), "42", "a/b"]
    assert detail(client.get(f"/x/0/{ident}/42/a"))[0]["loc"] == ["path", "num"]


def test_path_alias(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(item: int = Path(alias="item_id")) -> int:
        return item

    client = serve(client_for, make_handler, handler, "/items/{item_id}")
    assert client.get("/items/7").json() == 7


# Headers and cookies ----------------------------------------------------------------------


def test_headers(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(
        user_agent: str = Header("none"),
        request_id: str = Header("unknown", alias="X-Request-ID"),
        raw_name: str | None = Header(None, convert_underscores=False),
        x_count: int = Header(0),
        x_tag: list[str] | None = Header(None),
    ) -> list[Any]:
        return [user_agent, request_id, raw_name, x_count, x_tag]

    client = serve(client_for, make_handler, handler)
    headers = [
        ("User-Agent", "tests"),
        ("x-REQUEST-id", "r1"),
        ("raw_name", "kept"),
        ("X-Count", "3"),
        ("X-Tag", "a"),
        ("X-Tag", "b"),
    ]
    assert client.get("/t", headers=headers).json() == ["tests", "r1", "kept", 3, ["a", "b"]]
    assert client.get("/t", headers={"user-agent": ""}).json() == ["", "unknown", None, 0, None]
    assert detail(client.get("/t", headers={"x-count": "many"}))[0]["loc"] == ["header", "x-count"]


def test_cookies(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(session: str | None = Cookie(None), count: int = Cookie(0, alias="n")) -> list[Any]:
        return [session, count]

    client = serve(client_for, make_handler, handler)
    assert client.get("/t", headers={"cookie": "session=abc; n=2"}).json() == ["abc", 2]
    assert client.get("/t").json() == [None, 0]
    assert detail(client.get("/t", headers={"cookie": "n=x"}))[0]["loc"] == ["cookie", "n"]


# Bodies -----------------------------------------------------------------------------------


class Item(BaseModel):
    id: int = Field(ge=1)
    name: str | None = Field(None, max_length=5)


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


# The request, and several sources together ------------------------------------------------


def test_the_request_by_name_or_annotation(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(request, req: Request, n: int = 1) -> list[Any]:  # type: ignore[no-untyped-def]
        return [request is req, req.path, n]

    client = serve(client_for, make_handler, handler)
    assert client.get("/t?n=2").json() == [True, "/t", 2]


def test_all_sources_in_one_handler(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(  # noqa: PLR0917 - a handler taking every kind of parameter
        request: Request,
        item_id: int,
        item: Item,
        q: str = Query(""),
        x_token: str = Header(...),
        session: str = Cookie(...),
    ) -> list[Any]:
        return [item_id, item.id, q, x_token, session]

    client = serve(client_for, make_handler, handler, "/items/{item_id}", method="PUT")
    response = client.put(
        "/items/1?q=s",
        json={"id": 2},
        headers={"x-token": "t", "cookie": "session=c"},
    )
    assert response.json() == [1, 2, "s", "t", "c"]
    errors = detail(client.put("/items/x", json={"id": 0}))
    assert sorted(tuple(e["loc"]) for e in errors) == [
        ("body", "id"),
        ("cookie", "session"),
        ("header", "x-token"),
        ("path", "item_id"),
    ]
