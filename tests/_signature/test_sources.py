"""Arguments from the query, the path, headers and cookies, and the request itself,
validated in one call, over `def` and `async def` handlers and the ASGI and RSGI adapters
(fixtures `make_handler` and `client_for`). Bodies: test_bodies.py."""

import uuid
from typing import Annotated, Any, Optional

import pytest

from ambi import Cookie, Field, Header, Path, Query, Request

from ._serve import ClientFor, Item, MakeHandler, detail, serve

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
