"""422 bodies field for field as FastAPI's: the same program and requests under FastAPI
and under ambi (over both interfaces) give the same status and the same JSON."""

import asyncio
from collections.abc import Callable
from types import ModuleType
from typing import Annotated, Any

import fastapi
import httpx
import pytest
from pydantic import AfterValidator, BaseModel, Field, field_validator

import ambi
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def _positive(value: int) -> int:
    if value < 0:
        raise ValueError("negative!")
    return value


class Tag(BaseModel):
    label: str = Field(min_length=2)


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[Tag] = []

    @field_validator("name")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("blank name")
        return value


class Filters(BaseModel):
    limit: int = Field(10, le=100)
    order: str = "asc"


def build(fw: ModuleType) -> Any:
    app = (getattr(fw, "FastAPI", None) or fw.App)()

    def paging(
        page: Annotated[int, fw.Query(ge=1)] = 1, x_team: Annotated[str, fw.Header()] = ""
    ) -> int:
        return page

    @app.post("/items/{shop}")
    def create(  # noqa: PLR0917 - one input of each kind
        shop: int,
        item: Item,
        page: Annotated[int, fw.Depends(paging)],
        q: Annotated[str, fw.Query(max_length=3)],
        x_key: Annotated[int, fw.Header()],
        sid: Annotated[str | None, fw.Cookie()] = None,
    ) -> dict[str, Any]:
        return {}

    @app.post("/two")
    def two(
        item: Item,
        user: Annotated[str, fw.Body()],
        importance: Annotated[int, fw.Body(gt=0)] = 1,
    ) -> dict[str, Any]:
        return {}

    @app.post("/embed")
    def embed(item: Annotated[Item, fw.Body(embed=True)]) -> dict[str, Any]:
        return {}

    @app.post("/optional")
    def optional(item: Item | None = None) -> dict[str, Any]:
        return {}

    @app.post("/list")
    def many(items: list[Item]) -> dict[str, Any]:
        return {}

    @app.get("/checked")
    def checked(
        n: Annotated[int, AfterValidator(_positive)],
        when: Annotated[str, fw.Query(pattern="^[0-9]{4}$")] = "2024",
        ratio: Annotated[float, fw.Query(gt=0.5, le=1)] = 1,
    ) -> dict[str, Any]:
        return {}

    @app.get("/model")
    def model(filters: Annotated[Filters, fw.Query()]) -> dict[str, Any]:
        return {}

    @app.post("/form")
    def form(
        a: Annotated[str, fw.Form(min_length=2)], b: Annotated[int, fw.Form()]
    ) -> dict[str, Any]:
        return {}

    return app


JSON = {"content-type": "application/json"}
# (method, url, httpx keyword arguments)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "post",
        "/items/x?q=long&page=0",
        {"json": {"name": " ", "price": -1, "tags": [{"label": ""}]}},
    ),
    ("post", "/items/1", {}),
    ("post", "/items/1?q=a", {"headers": {"x-key": "k", "x-team": "t"}, "json": {"price": 1}}),
    ("post", "/items/1?q=a", {"headers": {**JSON, "x-key": "1"}, "content": b'{"name": "a",'}),
    ("post", "/items/1?q=a", {"headers": {**JSON, "x-key": "1"}, "content": b"[1, 2]"}),
    ("post", "/items/1?q=a", {"headers": {**JSON, "x-key": "1"}, "content": b"null"}),
    ("post", "/items/1?q=a", {"headers": {**JSON, "x-key": "1"}, "content": b'"text"'}),
    ("post", "/two", {"json": {}}),
    ("post", "/two", {}),
    ("post", "/two", {"json": [1]}),
    ("post", "/two", {"json": "x"}),
    ("post", "/two", {"json": {"item": {"name": "a", "price": 0}, "user": 5, "importance": 0}}),
    ("post", "/two", {"headers": JSON, "content": b'{\n  "item": ,\n}'}),
    ("post", "/embed", {"json": {}}),
    ("post", "/embed", {"json": {"item": None}}),
    ("post", "/embed", {"json": {"item": {"name": "a"}}}),
    ("post", "/optional", {}),
    ("post", "/optional", {"json": {"name": "a"}}),
    ("post", "/optional", {"headers": JSON, "content": b"null"}),
    ("post", "/list", {"json": [{"name": "a", "price": 1}, {"price": "x"}]}),
    ("post", "/list", {"json": {"name": "a"}}),
    ("get", "/checked?n=-1&when=99&ratio=0.1", {}),
    ("get", "/checked?n=abc", {}),
    ("get", "/model?limit=1000", {}),
    ("post", "/form", {"data": {"a": "x"}}),
    ("post", "/form", {"data": {"a": "xy", "b": "no"}}),
]


@pytest.fixture(scope="module")
def fastapi_answers() -> list[tuple[int, Any]]:
    """What FastAPI answers to each case (driven through httpx's ASGI transport)."""
    app = build(fastapi)
    answers = []

    async def ask() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, url, kwargs in CASES:
                response = await client.request(method.upper(), url, **kwargs)
                answers.append((response.status_code, response.json()))

    asyncio.run(ask())
    return answers


@pytest.mark.parametrize("case", range(len(CASES)), ids=lambda i: f"{CASES[i][0]} {CASES[i][1]}")
def test_the_same_answer_as_fastapi(
    client_for: ClientFor, fastapi_answers: list[tuple[int, Any]], case: int
) -> None:
    method, url, kwargs = CASES[case]
    response = client_for(build(ambi)).request(method.upper(), url, **kwargs)
    assert (response.status_code, response.json()) == fastapi_answers[case]


def test_intended_differences(client_for: ClientFor) -> None:
    client = client_for(build(ambi))
    headers = {"x-key": "1"}
    wrong_type = client.post(
        "/items/1?q=a",
        content=b'{"name": "a", "price": 1}',
        headers={**headers, "content-type": "text/plain"},
    )
    assert wrong_type.status_code == 415  # FastAPI: 422, the text taken as the body
    no_type = client.post("/items/1?q=a", content=b'{"name": "a", "price": 1}', headers=headers)
    assert no_type.status_code == 200  # FastAPI: 422; ambi reads a body without a type as JSON
    not_utf8 = client.post("/items/1?q=a", content=b'{"name": "\xff"}', headers={**headers, **JSON})
    assert not_utf8.status_code == 400  # FastAPI: 400 too, or a 422 for UTF-16/32 bodies
