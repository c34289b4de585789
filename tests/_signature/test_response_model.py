"""`response_model=` and return annotations: output filtered and validated; a result that
fails its own model is a 500 logged as a server bug."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ConfigDict

from ambi import (
    App,
    BaseModel,
    ConfigurationError,
    Field,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from ambi.exceptions import ResponseValidationError
from ambi.testing import TestClient

MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]
ClientFor = Callable[[App], TestClient]


class User(BaseModel):
    id: int
    name: str


class UserInDB(User):
    password: str


class Aliased(BaseModel):
    item_id: int = Field(alias="itemId")


@dataclass
class Row:
    id: int
    name: str
    secret: str


def serve(
    client_for: ClientFor, make_handler: MakeHandler, fn: Callable[..., Any], **options: Any
) -> TestClient:
    app = App()
    app.get("/r", **options)(make_handler(fn))
    return client_for(app, raise_server_exceptions=False)  # tests here look at the 500s


def test_response_model_filters_a_dict(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler() -> Any:
        return {"id": 1, "name": "a", "password": "hunter2"}

    response = serve(client_for, make_handler, handler, response_model=User).get("/r")
    assert response.json() == {"id": 1, "name": "a"}
    assert response.headers["content-type"] == "application/json"


def test_response_model_filters_a_subclass(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler() -> Any:
        return UserInDB(id=1, name="a", password="hunter2")

    response = serve(client_for, make_handler, handler, response_model=User).get("/r")
    assert response.json() == {"id": 1, "name": "a"}


def test_objects_are_read_by_attribute(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler() -> Any:
        return [Row(1, "a", "s"), Row(2, "b", "t")]

    response = serve(client_for, make_handler, handler, response_model=list[User]).get("/r")
    assert response.json() == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_the_return_annotation_is_the_model(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler() -> User:
        return UserInDB(id=1, name="a", password="x")

    assert serve(client_for, make_handler, handler).get("/r").json() == {"id": 1, "name": "a"}


def test_response_model_wins_over_the_annotation(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler() -> UserInDB:
        return UserInDB(id=1, name="a", password="x")

    response = serve(client_for, make_handler, handler, response_model=User).get("/r")
    assert response.json() == {"id": 1, "name": "a"}


def test_response_model_none_turns_it_off(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler() -> User:
        return {"anything": True}  # type: ignore[return-value]

    response = serve(client_for, make_handler, handler, response_model=None).get("/r")
    assert response.json() == {"anything": True}


def test_aliases_are_sent(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler() -> Aliased:
        return Aliased(itemId=3)

    assert serve(client_for, make_handler, handler).get("/r").json() == {"itemId": 3}


def test_status_code_applies(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def created() -> User:
        return User(id=1, name="a")

    response = serve(client_for, make_handler, created, status_code=201).get("/r")
    assert (response.status_code, response.json()) == (201, {"id": 1, "name": "a"})

    def nothing() -> User | None:
        return None

    response = serve(client_for, make_handler, nothing, status_code=204).get("/r")
    assert (response.status_code, response.content) == (204, b"")


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.ERROR, logger="ambi.app"):
        yield caplog


def test_a_result_that_fails_its_model_is_a_logged_500(
    client_for: ClientFor, make_handler: MakeHandler, errors_logged: pytest.LogCaptureFixture
) -> None:
    def handler() -> User:
        return {"id": "not a number"}  # type: ignore[return-value]

    response = serve(client_for, make_handler, handler).get("/r")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}  # nothing leaked
    [record] = [r for r in errors_logged.records if r.exc_info]
    assert record.exc_info is not None
    error = record.exc_info[1]
    assert isinstance(error, ResponseValidationError)
    assert {tuple(e["loc"]) for e in error.errors()} == {("id",), ("name",)}
    assert "does not match its response model" in str(error)


@pytest.mark.parametrize(
    ("annotation", "result", "content_type"),
    [
        (str, "plain", "text/plain; charset=utf-8"),
        (bytes, b"raw", "application/octet-stream"),
        (Response, PlainTextResponse("r"), "text/plain; charset=utf-8"),
        (JSONResponse, JSONResponse({"a": 1}), "application/json"),
        (User | JSONResponse, JSONResponse({"a": 1}), "application/json"),
        (tuple[dict[str, int], int], ({"a": 1}, 202), "application/json"),
        (None, None, "application/json"),
        (Any, {"a": 1}, "application/json"),
    ],
)
def test_annotations_that_are_not_models(
    client_for: ClientFor,
    make_handler: MakeHandler,
    annotation: Any,
    result: Any,
    content_type: str,
) -> None:
    def handler() -> Any:
        return result

    handler.__annotations__["return"] = annotation
    app = App()
    app.get("/r")(make_handler(handler))
    assert app.compiled[0].response_model is None
    response = client_for(app).get("/r")
    assert response.status_code in (200, 202)
    assert response.headers["content-type"] == content_type


def test_a_response_object_bypasses_the_model(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler() -> Any:
        return JSONResponse({"not": "a user"}, status_code=202)

    response = serve(client_for, make_handler, handler, response_model=User).get("/r")
    assert (response.status_code, response.json()) == (202, {"not": "a user"})


@pytest.mark.parametrize(
    ("annotation", "good", "bad"),
    [
        (dict[str, Any], {"a": 1}, [1]),
        (dict, {"a": 1}, "text"),
        (list[Any], [1, "a"], {"a": 1}),
        (dict[str, int], {"a": 1}, {"a": "x"}),
    ],
)
def test_container_annotations(
    client_for: ClientFor, make_handler: MakeHandler, annotation: Any, good: Any, bad: Any
) -> None:
    results = iter([good, bad])

    def handler() -> Any:
        return next(results)

    handler.__annotations__["return"] = annotation
    client = serve(client_for, make_handler, handler)
    assert client.get("/r").json() == good
    assert client.get("/r").status_code == 500


class Profile(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    nick: str | None = Field(None, alias="nickName")
    bio: str = ""
    tags: list[str] = []  # noqa: RUF012 - a pydantic field default (copied per instance)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"name": "a", "nickName": None, "bio": "", "tags": ["x"]}),
        ({"response_model_exclude_unset": True}, {"name": "a", "tags": ["x"]}),
        ({"response_model_exclude_defaults": True}, {"name": "a", "tags": ["x"]}),
        ({"response_model_exclude_none": True}, {"name": "a", "bio": "", "tags": ["x"]}),
        ({"response_model_include": {"name", "bio"}}, {"name": "a", "bio": ""}),
        ({"response_model_include": ["name"]}, {"name": "a"}),
        ({"response_model_exclude": {"tags", "bio"}}, {"name": "a", "nickName": None}),
        (
            {"response_model_by_alias": False},
            {"name": "a", "nick": None, "bio": "", "tags": ["x"]},
        ),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else "",
)
@pytest.mark.parametrize("result", ["dict", "model"])
def test_response_model_filters(
    client_for: ClientFor,
    make_handler: MakeHandler,
    options: dict[str, Any],
    expected: dict[str, Any],
    result: str,
) -> None:
    def handler() -> Any:
        data = {"name": "a", "tags": ["x"]}
        return data if result == "dict" else Profile(**data)

    client = serve(client_for, make_handler, handler, response_model=Profile, **options)
    assert client.get("/r").json() == expected


def test_response_model_filters_with_a_response_class(client_for: ClientFor) -> None:
    app = App()

    class Seen(HTMLResponse):
        def render(self, content: Any) -> bytes:
            return repr(content).encode()

    app.get("/seen", response_class=Seen, response_model=Profile, response_model_exclude={"bio"})(
        lambda: {"name": "b"}
    )
    client = client_for(app)
    assert client.get("/seen").text == "{'name': 'b', 'nickName': None, 'tags': []}"


def test_filters_without_a_response_model_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="response_model_exclude_none filter"):
        App().get("/r", response_model_exclude_none=True)(lambda: {"a": None})
    with pytest.raises(ConfigurationError, match="response_model_include takes a set"):
        App().get("/r", response_model=Profile, response_model_include="name")(lambda: {})
    with pytest.raises(ConfigurationError, match="is True or False"):
        App().get("/r", response_model=Profile, response_model_exclude_unset=1)(lambda: {})
