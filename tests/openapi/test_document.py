"""The OpenAPI 3.1 document generated from the compiled plans."""

from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate

from ambi import (
    App,
    BaseModel,
    Body,
    Cookie,
    Field,
    File,
    Form,
    Header,
    Path,
    Query,
    Router,
    UploadFile,
)
from ambi.openapi import build_openapi
from tests.examples._load import load_example


class Pet(BaseModel):
    name: str = Field(min_length=1, description="The pet's name")
    age: int = Field(0, ge=0)


class PetOut(BaseModel):
    id: int
    name: str


@dataclass
class Point:
    x: float
    y: float


def operation(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    result: dict[str, Any] = document["paths"][path][method]
    return result


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or the component its `$ref` names."""
    if "$ref" not in schema:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return found


def parameter(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["name"] == name)


@pytest.fixture
def app() -> App:
    app = App(title="Pets", version="2.0", description="A pet store.")

    @app.get("/pets/{pet_id}", tags=["pets"], response_model=PetOut)
    def get_pet(  # noqa: PLR0917 - a handler taking every kind of parameter
        pet_id: int,
        q: str | None = Query(None, max_length=5, pattern="^[a-z]+$", description="Filter"),
        n: int = Query(100, ge=2, le=10000),
        tags: list[str] = Query([]),
        request_id: str = Header("x", alias="X-Request-ID", description="Tracking id"),
        user_agent: str | None = Header(None),
        session: str | None = Cookie(None),
        old: int = Query(0, deprecated=True),
        hidden: int = Query(0, include_in_schema=False),
    ) -> Any:
        """Fetch one pet.

        Longer text.\f
        Not for the document.
        """
        return {"id": pet_id, "name": "x"}

    @app.post("/pets", status_code=201, summary="Add a pet", description="Adds it.")
    async def add_pet(pet: Pet) -> PetOut:
        return PetOut(id=1, name=pet.name)

    @app.put("/pets/{pet_id}/owner", operation_id="set_owner")
    def set_owner(
        pet_id: int, owner: str = Body(embed=True, max_length=10), since: int = Body(0, embed=True)
    ) -> None:
        return None

    @app.post("/points")
    def points(data: list[Point], scale: float = 1.0) -> dict[str, Any]:
        return {}

    @app.post("/raw")
    def raw(data: dict[str, Any] | None = None) -> list[int]:
        return []

    @app.post("/login")
    def login(username: str = Form(), remember: bool = Form(False)) -> dict[str, str]:
        return {}

    @app.post("/upload")
    def upload(file: UploadFile, files: list[UploadFile] = File([]), note: str = Form("")) -> None:
        return None

    @app.delete("/pets/{pet_id}", status_code=204, deprecated=True)
    def delete_pet(pet_id: int) -> None:
        return None

    @app.get("/files/{rest:path}")
    def files(request: Any) -> str:
        return ""

    @app.get("/hidden", include_in_schema=False)
    def hidden_route() -> dict[str, str]:
        return {}

    return app


@pytest.fixture
def document(app: App) -> dict[str, Any]:
    return app.openapi()


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Pets", "version": "2.0", "description": "A pet store."}


def test_the_example_apps_documents_are_valid() -> None:
    validate(load_example("shop").app.openapi())


def test_parameters_carry_constraints_and_descriptions(document: dict[str, Any]) -> None:
    op = operation(document, "/pets/{pet_id}")
    path_param = parameter(op, "pet_id")
    assert path_param["in"] == "path"
    assert path_param["required"] is True
    assert path_param["schema"]["type"] == "integer"
    q = parameter(op, "q")
    assert q["description"] == "Filter"
    assert q["required"] is False
    assert {"maxLength": 5, "pattern": "^[a-z]+$"}.items() <= q["schema"]["anyOf"][0].items()
    n = parameter(op, "n")["schema"]
    assert (n["minimum"], n["maximum"], n["default"]) == (2, 10000, 100)
    assert parameter(op, "tags")["schema"]["type"] == "array"
    header = parameter(op, "X-Request-ID")
    assert header["in"] == "header"
    assert header["description"] == "Tracking id"
    assert parameter(op, "user-agent")["in"] == "header"
    assert parameter(op, "session")["in"] == "cookie"
    assert parameter(op, "old")["deprecated"] is True
    assert "hidden" not in {p["name"] for p in op["parameters"]}


def test_summary_description_tags_and_ids(document: dict[str, Any]) -> None:
    get_pet = operation(document, "/pets/{pet_id}")  # FastAPI's: the name, the docstring
    assert get_pet["summary"] == "Get Pet"
    assert get_pet["description"] == "Fetch one pet.\n\nLonger text."
    assert get_pet["tags"] == ["pets"]
    assert get_pet["operationId"] == "get_pet_pets__pet_id__get"
    add_pet = operation(document, "/pets", "post")
    assert (add_pet["summary"], add_pet["description"]) == ("Add a pet", "Adds it.")
    assert operation(document, "/pets/{pet_id}/owner", "put")["operationId"] == "set_owner"
    assert operation(document, "/pets/{pet_id}", "delete")["deprecated"] is True
    points = operation(document, "/points", "post")  # no docstring: the name
    assert points["summary"] == "Points"
    assert "description" not in points


def test_request_bodies(document: dict[str, Any]) -> None:
    add_pet = operation(document, "/pets", "post")["requestBody"]
    assert add_pet["required"] is True
    assert add_pet["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    pet = document["components"]["schemas"]["Pet"]
    assert pet["properties"]["name"]["minLength"] == 1
    assert pet["required"] == ["name"]

    owner = operation(document, "/pets/{pet_id}/owner", "put")["requestBody"]
    ref = owner["content"]["application/json"]["schema"]["$ref"]
    embedded = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(embedded["properties"]) == {"owner", "since"}
    assert embedded["properties"]["owner"]["maxLength"] == 10
    assert embedded["required"] == ["owner"]

    points = operation(document, "/points", "post")
    schema = points["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Point"},
        "title": "Data",  # FastAPI titles a body that is not a model by its name
    }
    assert parameter(points, "scale")["in"] == "query"

    assert "required" not in operation(document, "/raw", "post")["requestBody"]  # as FastAPI


def test_form_and_file_bodies(document: dict[str, Any]) -> None:
    login = operation(document, "/login", "post")["requestBody"]
    ref = login["content"]["application/x-www-form-urlencoded"]["schema"]
    assert ref == {"$ref": "#/components/schemas/Body_login_login_post"}  # FastAPI's name
    form = resolve(document, ref)
    assert set(form["properties"]) == {"username", "remember"}
    assert form["required"] == ["username"]
    upload = operation(document, "/upload", "post")["requestBody"]
    multipart = resolve(document, upload["content"]["multipart/form-data"]["schema"])
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    assert multipart["properties"]["file"] == {"title": "File", **binary}
    assert multipart["properties"]["files"]["items"] == binary
    assert multipart["required"] == ["file"]


def test_responses(document: dict[str, Any]) -> None:
    get_pet = operation(document, "/pets/{pet_id}")["responses"]
    assert get_pet["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PetOut"
    }
    assert get_pet["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"
    }
    assert "400" not in get_pet  # no body, nothing unreadable
    add_pet = operation(document, "/pets", "post")["responses"]
    assert set(add_pet) == {"201", "400", "415", "422"}
    assert add_pet["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PetOut"
    }
    deleted = operation(document, "/pets/{pet_id}", "delete")["responses"]["204"]
    assert "content" not in deleted
    raw = operation(document, "/raw", "post")["responses"]["200"]
    assert raw["content"]["application/json"]["schema"]["type"] == "array"
    files = operation(document, "/files/{rest}")["responses"]
    assert set(files) == {"200"}  # nothing validated: no 422
    assert files["200"]["content"]["application/json"]["schema"] == {}


def test_path_converters_are_stripped_and_undeclared_params_listed(
    document: dict[str, Any],
) -> None:
    assert "/files/{rest}" in document["paths"]
    assert parameter(operation(document, "/files/{rest}"), "rest") == {
        "name": "rest",
        "in": "path",
        "required": True,
        "schema": {"title": "Rest", "type": "string"},
    }


def test_hidden_and_framework_routes_are_left_out(document: dict[str, Any]) -> None:
    assert "/hidden" not in document["paths"]
    assert not {"/openapi.json", "/docs", "/redoc"} & set(document["paths"])


def test_components_hold_each_model_once(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"Pet", "PetOut", "Point", "HTTPValidationError", "ValidationError", "HTTPError"} <= set(
        schemas
    )
    assert list(schemas) == sorted(schemas)


def test_operation_ids_are_unique() -> None:
    app = App()

    def handler() -> dict[str, str]:
        return {}

    app.get("/a_b")(handler)
    app.get("/a/b")(handler)  # the same generated id as /a_b
    app.get("/c", operation_id="same")(handler)
    app.get("/d", operation_id="same")(handler)
    app.route("/e", methods=["GET", "POST"], operation_id="both")(handler)
    document = app.openapi()
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert ids == [
        "handler_a_b_get",
        "handler_a_b_get_2",
        "same",
        "same_2",
        "both_get",
        "both_post",
    ]


def test_the_document_is_rebuilt_after_new_routes() -> None:
    app = App()

    @app.get("/one")
    def one() -> None:
        return None

    first = app.openapi()
    assert app.openapi() is first  # cached

    @app.get("/two")
    def two() -> None:
        return None

    assert set(app.openapi()["paths"]) == {"/one", "/two"}


def test_included_router_tags() -> None:
    router = Router(prefix="/v1", tags=["v1"])

    @router.get("/ping", tags=["health"])
    def ping() -> dict[str, str]:
        return {}

    app = App()
    app.include_router(router)
    assert operation(app.openapi(), "/v1/ping")["tags"] == ["v1", "health"]


def test_a_default_that_is_not_json_does_not_break_the_document() -> None:
    class Opaque:
        pass

    app = App()

    @app.get("/opaque")
    def opaque(marker: Annotated[Any, Query()] = Opaque()) -> None:  # noqa: B008
        return None

    validate(app.openapi())


def test_an_app_without_inputs_has_no_error_schemas() -> None:
    app = App()

    @app.get("/")
    def index() -> dict[str, str]:
        return {}

    document = app.openapi()
    assert "components" not in document
    validate(document)


def test_build_openapi_takes_routes_directly(app: App) -> None:
    document = build_openapi(app.compiled, title="T", version="1", summary="S")
    assert document["info"] == {"title": "T", "version": "1", "summary": "S"}


def test_path_annotated_marker_in_schema() -> None:
    app = App()

    @app.get("/items/{item_id}")
    def item(item_id: Annotated[int, Path(ge=1, title="The id")]) -> None:
        return None

    schema = parameter(operation(app.openapi(), "/items/{item_id}"), "item_id")["schema"]
    assert schema == {"type": "integer", "minimum": 1, "title": "The id"}
