"""Parameter models (FastAPI 0.115): `Annotated[Model, Query()]` and the Header, Cookie and
Form spellings read every field of the model from that source."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import ConfigDict

from ambi import App, BaseModel, Cookie, Depends, Field, Form, Header, Query
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


class Filters(BaseModel):
    limit: int = Field(100, gt=0, le=100)
    offset: int = 0
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = Field(default_factory=list)


class StrictFilters(Filters):
    model_config = ConfigDict(extra="forbid")


class CommonHeaders(BaseModel):
    host: str
    x_tag: list[str] = Field(default_factory=list)


class Session(BaseModel):
    session_id: str
    tracker: str | None = None


class Login(BaseModel):
    username: str
    password: str


def test_query_model(app: App, client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(filters: Annotated[Filters, Query()]) -> dict[str, Any]:
        return filters.model_dump()

    app.get("/items")(make_handler(handler))
    client = client_for(app)
    assert client.get("/items?limit=5&tags=a&tags=b").json() == {
        "limit": 5,
        "offset": 0,
        "order_by": "created_at",
        "tags": ["a", "b"],
    }
    bad = client.get("/items?limit=500&order_by=name").json()["detail"]
    assert sorted(e["loc"] for e in bad) == [["query", "limit"], ["query", "order_by"]]


def test_extra_keys_are_refused_when_the_model_forbids_them(
    app: App, client_for: ClientFor
) -> None:
    @app.get("/strict")
    async def handler(filters: Annotated[StrictFilters, Query()]) -> int:
        return filters.limit

    client = client_for(app)
    assert client.get("/strict?limit=3").json() == 3
    [error] = client.get("/strict?limit=3&tool=plumbus").json()["detail"]
    assert (error["type"], error["loc"]) == ("extra_forbidden", ["query", "tool"])


def test_header_cookie_and_form_models(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(
        headers: Annotated[CommonHeaders, Header()],
        session: Annotated[Session, Cookie()],
    ) -> dict[str, Any]:
        return {"headers": headers.model_dump(), "session": session.model_dump()}

    def login(data: Annotated[Login, Form()]) -> str:
        return data.username

    app.get("/h")(make_handler(handler))
    app.post("/login")(make_handler(login))
    client = client_for(app)
    response = client.get("/h", headers={"x-tag": "one", "cookie": "session_id=s1"})
    assert response.json() == {
        "headers": {"host": "testserver", "x_tag": ["one"]},
        "session": {"session_id": "s1", "tracker": None},
    }
    assert client.post("/login", data={"username": "ada", "password": "pw"}).text == "ada"
    missing = client.post("/login", data={"username": "ada"}).json()["detail"]
    assert [e["loc"] for e in missing] == [["body", "password"]]


def test_models_in_dependencies_and_openapi(app: App, client_for: ClientFor) -> None:
    def paging(filters: Annotated[Filters, Query()]) -> Filters:
        return filters

    @app.get("/things")
    def things(p: Filters = Depends(paging), x_key: str = Header()) -> int:
        return p.limit

    @app.post("/login")
    def login(data: Annotated[Login, Form()]) -> str:
        return data.username

    assert client_for(app).get("/things?limit=7", headers={"x-key": "k"}).json() == 7
    document = app.openapi()
    params = document["paths"]["/things"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in params] == [
        ("limit", "query", False),
        ("offset", "query", False),
        ("order_by", "query", False),
        ("tags", "query", False),
        ("x-key", "header", True),
    ]
    assert params[0]["schema"]["maximum"] == 100
    form = document["paths"]["/login"]["post"]["requestBody"]["content"]
    ref = form["application/x-www-form-urlencoded"]["schema"]["$ref"]  # the model itself
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["required"] == ["username", "password"]
