"""`ambi.exception_handlers`: FastAPI's default error answers, usable from custom handlers."""

from collections.abc import Callable
from typing import Any

from ambi import App, HTTPException, Query, Request
from ambi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from ambi.exceptions import RequestValidationError
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def test_custom_handlers_hand_over_to_the_defaults(client_for: ClientFor) -> None:
    seen: list[str] = []
    app = App()

    @app.exception_handler(HTTPException)
    async def log_http(request: Request, exc: HTTPException) -> Any:
        seen.append(f"http {exc.status_code}")
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def log_validation(request: Request, exc: RequestValidationError) -> Any:
        seen.append(f"invalid {exc.errors()[0]['loc']}")
        return await request_validation_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    def item(item_id: int, q: int = Query(0)) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404, "no such item", {"x-reason": "zero"})
        if item_id == 1:
            raise HTTPException(304)
        return {"item_id": item_id}

    client = client_for(app)
    missing = client.get("/items/0")
    assert (missing.status_code, missing.json()) == (404, {"detail": "no such item"})
    assert missing.headers["x-reason"] == "zero"
    not_modified = client.get("/items/1")
    assert (not_modified.status_code, not_modified.content) == (304, b"")  # no body for 304
    invalid = client.get("/items/x")
    assert invalid.status_code == 422
    assert invalid.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            }
        ]
    }
    assert seen == ["http 404", "http 304", "invalid ['path', 'item_id']"]


def test_the_errors_and_body_of_a_validation_error(client_for: ClientFor) -> None:
    app = App()
    caught: list[RequestValidationError] = []

    @app.exception_handler(RequestValidationError)
    def keep(request: Request, exc: RequestValidationError) -> Any:
        caught.append(exc)
        return {"detail": exc.errors(), "body": exc.body}, 422

    @app.post("/json")
    def json_body(n: int, payload: dict[str, int]) -> None:
        return None

    @app.post("/query")
    def query_only(a: int = Query(), b: str = Query()) -> None:
        return None

    client = client_for(app)
    response = client.post("/json?n=x", json={"a": 1})
    assert response.json()["body"] == {"a": 1}  # the decoded body, as FastAPI's exc.body
    assert caught[-1].errors()[0]["loc"] == ["query", "n"]
    malformed = client.post(
        "/json?n=1", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert malformed.json()["body"] == "{oops"  # the text that is not JSON
    assert client.post("/query").json()["body"] is None  # a route without a body


def test_validation_errors_skip_handlers_for_broader_errors(client_for: ClientFor) -> None:
    from ambi.responses import PlainTextResponse

    app = App()

    @app.exception_handler(HTTPException)  # FastAPI's "override the HTTPException handler"
    def as_text(request: Request, exc: HTTPException) -> Any:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    app.add_exception_handler(422, lambda request, exc: ({"status handler": True}, 422))
    app.add_exception_handler(Exception, lambda request, exc: ({"catch-all": True}, 500))

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        if item_id == 3:
            raise HTTPException(418, "teapot")
        return {"item_id": item_id}

    client = client_for(app)
    assert client.get("/items/3").text == "teapot"
    invalid = client.get("/items/x")  # as in FastAPI: the default 422, none of the above
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["path", "item_id"]
