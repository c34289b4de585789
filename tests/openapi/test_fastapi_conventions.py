"""The OpenAPI document follows FastAPI's conventions: the same program gives the same
document under FastAPI and under ambi (apart from the 400/415 answers ambi documents and
the operationIds of a route with several methods, which ambi makes unique)."""

import copy
from types import ModuleType
from typing import Annotated, Any

import fastapi
import fastapi.responses
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

import ambi
import ambi.responses
from ambi import App, ConfigurationError, SignatureError


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float = Field(gt=0)
    tags: list[str] = []


class Message(BaseModel):
    detail: str


class Login(BaseModel):
    username: str
    password: str


def build(fw: ModuleType, responses: ModuleType) -> Any:  # noqa: C901 - one app, many routes
    """One program, written against `fw` (fastapi or ambi)."""
    application = getattr(fw, "FastAPI", None) or fw.App
    app = application(
        title="Shop",
        summary="A shop",
        description="Sells things.",
        version="1.2.3",
        terms_of_service="https://example.com/terms",
        contact={"name": "Ops", "email": "ops@example.com"},
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[{"name": "items", "description": "Things"}],
        servers=[{"url": "https://api.example.com"}],
    )
    router = fw.APIRouter(
        prefix="/items", tags=["items"], responses={404: {"model": Message, "description": "No"}}
    )

    def common(
        x_token: Annotated[str, fw.Header()], q: Annotated[str | None, fw.Query()] = None
    ) -> str:
        return x_token

    @router.get("/{item_id}", response_model=Item, response_description="The item")
    def read_item(
        item_id: int,
        token: Annotated[str, fw.Depends(common)],
        session: Annotated[str | None, fw.Cookie()] = None,
        limit: Annotated[int, fw.Query(ge=1, le=100, openapi_examples={"few": {"value": 3}})] = 10,
        user_agent: Annotated[str | None, fw.Header()] = None,
    ) -> Any:
        """Read one item.

        Longer text.
        \f
        Not documented.
        """
        return {}

    @router.post("/", status_code=201, summary="Add", operation_id="add_item")
    def create_item(
        item: Annotated[
            Item, fw.Body(openapi_examples={"one": {"summary": "One", "value": {"name": "a"}}})
        ],
    ) -> Item:
        return item

    @router.put("/{item_id}", deprecated=True, openapi_extra={"x-internal": True})
    def update_item(
        item_id: str,
        item: Item,
        user: Annotated[str, fw.Body()],
        importance: Annotated[int, fw.Body(gt=0)] = 1,
    ) -> dict[str, Any]:
        return {}

    @router.get("/", response_model=list[Item])
    def list_items(tags: Annotated[list[str], fw.Query()] = []) -> Any:  # noqa: B006
        return []

    app.include_router(router, responses={418: {"description": "Teapot"}})

    @app.post("/login", responses={"4XX": {"description": "Client trouble"}})
    def login(
        username: Annotated[str, fw.Form()],
        password: Annotated[str, fw.Form(min_length=3)],
        remember: Annotated[bool, fw.Form()] = False,
    ) -> dict[str, str]:
        return {}

    @app.post("/login-model")
    def login_model(data: Annotated[Login, fw.Form()]) -> dict[str, str]:
        return {}

    @app.post("/upload")
    def upload(
        file: Annotated[bytes, fw.File()],
        upload: fw.UploadFile,
        note: Annotated[str, fw.Form()] = "",
    ) -> dict[str, str]:
        return {}

    @app.get("/page", response_class=responses.HTMLResponse)
    def page() -> str:
        return ""

    @app.get("/go", response_class=responses.RedirectResponse)
    def go() -> str:
        return "/page"

    @app.delete("/items/{item_id}", status_code=204, tags=["items"])
    def delete_item(item_id: int) -> None:
        return None

    @app.get("/scores")
    def scores() -> dict[str, int]:
        return {}

    @app.post("/bulk")
    def bulk(items: list[Item], dry_run: bool = False) -> list[Item]:
        return items

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> None:
        return None

    @app.get("/named", operation_id="custom_name", responses={200: {"model": Item}})
    def named() -> Any:
        return {}

    return app


def _without_ambi_extras(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for item in document["paths"].values():
        for operation in item.values():
            for status in ("400", "415"):
                operation["responses"].pop(status, None)
    document["components"]["schemas"].pop("HTTPError", None)
    return document


@pytest.fixture(scope="module")
def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        build(ambi, ambi.responses).openapi(),
        build(fastapi, fastapi.responses).openapi(),
    )


def test_the_same_document_as_fastapi(documents: tuple[dict[str, Any], dict[str, Any]]) -> None:
    ours, theirs = documents
    ours = _without_ambi_extras(ours)
    assert ours["info"] == theirs["info"]
    assert ours["servers"] == theirs["servers"]
    assert ours["tags"] == theirs["tags"]
    assert ours["components"] == theirs["components"]
    assert set(ours["paths"]) == set(theirs["paths"])
    for path, item in theirs["paths"].items():
        for method, operation in item.items():
            assert ours["paths"][path][method] == operation, f"{method} {path}"
    assert ours == theirs


def test_the_document_is_valid(documents: tuple[dict[str, Any], dict[str, Any]]) -> None:
    validate(documents[0])


def test_ambi_documents_its_body_errors(documents: tuple[dict[str, Any], dict[str, Any]]) -> None:
    responses = documents[0]["paths"]["/items/"]["post"]["responses"]
    assert set(responses) == {"201", "400", "404", "415", "418", "422"}
    assert responses["415"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPError"
    }


def test_one_operation_id_per_method() -> None:
    app = App()
    app.route("/both", methods=["GET", "POST"])(lambda: {})
    both = app.openapi()["paths"]["/both"]
    assert (both["get"]["operationId"], both["post"]["operationId"]) == (
        "_lambda__both_get",
        "_lambda__both_post",
    )


def test_generate_unique_id_function_and_apiroute() -> None:
    def by_tag(route: ambi.APIRoute) -> str:
        return f"{route.tags[0]}-{route.name}"

    app = App(generate_unique_id_function=by_tag)
    router = ambi.APIRouter(tags=["users"])

    @router.post("/users")
    def create_user(name: Annotated[str, ambi.Body()], age: Annotated[int, ambi.Body()]) -> None:
        return None

    app.include_router(router)
    other = ambi.APIRouter(tags=["misc"], generate_unique_id_function=lambda r: f"x-{r.name}")
    other.get("/misc")(lambda: None)
    app.include_router(other)
    document = app.openapi()
    operation = document["paths"]["/users"]["post"]
    assert operation["operationId"] == "users-create_user"
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Body_users-create_user"
    }
    assert document["paths"]["/misc"]["get"]["operationId"] == "x-<lambda>"

    renamed = App()
    renamed.get("/items")(lambda: None)
    for route in renamed.routes:  # FastAPI's "use route names as operation ids"
        if isinstance(route, ambi.APIRoute):
            route.operation_id = "list_items"
    assert renamed.openapi()["paths"]["/items"]["get"]["operationId"] == "list_items"


def test_router_settings_reach_the_document() -> None:
    app = App()
    router = ambi.APIRouter(prefix="/r", deprecated=True, responses={404: {"description": "x"}})
    router.get("/a", responses={404: {"description": "mine"}})(lambda: None)
    hidden = ambi.APIRouter(prefix="/h", include_in_schema=False)
    hidden.get("/b")(lambda: None)
    app.include_router(router, responses={500: {"description": "oops"}})
    app.include_router(hidden)
    document = app.openapi()
    operation = document["paths"]["/r/a"]["get"]
    assert operation["deprecated"] is True
    assert operation["responses"]["404"] == {"description": "mine"}
    assert operation["responses"]["500"] == {"description": "oops"}
    assert "/h/b" not in document["paths"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"responses": {"nope": {}}}, "responses keys are status codes"),
        ({"responses": {200: "ok"}}, "must be a dict"),
        ({"openapi_extra": ["x"]}, "openapi_extra must be a dict"),
        ({"summary": 3}, "summary must be a str"),
        ({"tags": "items"}, "tags must be a list of str"),
        ({"generate_unique_id_function": "x"}, "must be callable"),
    ],
)
def test_documentation_options_that_cannot_work(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App().get("/x", **options)(lambda: None)


def test_a_response_model_without_a_schema_is_refused() -> None:
    class Opaque:
        pass

    with pytest.raises(SignatureError, match="has no schema"):
        App().get("/x", responses={404: {"model": Opaque}})(lambda: None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"license_info": {"url": "x"}}, "license_info"),
        ({"servers": [{"description": "no url"}]}, "servers"),
        ({"openapi_tags": {"name": "x"}}, "openapi_tags"),
        ({"contact": "ops"}, "contact"),
        ({"summary": 1}, "summary"),
    ],
)
def test_app_documentation_options_that_cannot_work(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App(**options)


def test_openapi_examples_must_be_named_examples() -> None:
    with pytest.raises(ConfigurationError, match="openapi_examples"):
        ambi.Query(openapi_examples=[1, 2])
