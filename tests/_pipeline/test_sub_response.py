"""FastAPI's `response: Response` parameter: headers, cookies and the status code set on
it land on the response ambi renders, from the handler and from dependencies."""

from collections.abc import Callable
from typing import Annotated, Any

import pytest

from ambi import App, BaseModel, Depends, JSONResponse, Response
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


class Item(BaseModel):
    name: str


def test_handler_sets_headers_cookies_and_status(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()

    def create(item: Item, response: Response) -> Item:
        response.headers["X-Created"] = item.name
        response.set_cookie("last", item.name)
        response.status_code = 201
        return item

    app.post("/items", status_code=200)(make_handler(create))
    response = client_for(app).post("/items", json={"name": "a"})
    assert response.status_code == 201  # the parameter's status wins over the route's
    assert response.json() == {"name": "a"}
    assert response.headers["x-created"] == "a"
    assert response.headers["content-type"] == "application/json"
    assert "last=a" in response.headers["set-cookie"]


def test_dependencies_share_the_one_response(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()
    seen: list[Response] = []

    def tag(response: Response) -> str:
        seen.append(response)
        response.headers["X-Tag"] = "dep"
        return "dep"

    async def version(response: Response, tagged: Annotated[str, Depends(tag)]) -> str:
        seen.append(response)
        response.headers["X-Version"] = "2"
        return tagged

    def handler(value: Annotated[str, Depends(version)], response: Response) -> dict[str, Any]:
        seen.append(response)
        return {"value": value, "status": response.status_code}

    app.get("/x")(make_handler(handler))
    response = client_for(app).get("/x")
    assert response.status_code == 200
    assert response.json() == {"value": "dep", "status": None}  # not set: None, as FastAPI
    assert (response.headers["x-tag"], response.headers["x-version"]) == ("dep", "2")
    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2]


def test_route_level_dependency_with_a_response(client_for: ClientFor) -> None:
    def no_cache(response: Response) -> None:
        response.headers["Cache-Control"] = "no-store"

    app = App(dependencies=[Depends(no_cache)])
    app.get("/a")(lambda: {"a": 1})
    response = client_for(app).get("/a")
    assert (response.json(), response.headers["cache-control"]) == ({"a": 1}, "no-store")


def test_a_returned_response_is_sent_as_it_is(client_for: ClientFor) -> None:
    app = App()

    @app.get("/own")
    def own(response: Response) -> Response:
        response.headers["X-Lost"] = "yes"
        response.status_code = 202
        return JSONResponse({"own": True}, 200)

    response = client_for(app).get("/own")
    assert (response.status_code, response.json()) == (200, {"own": True})
    assert "x-lost" not in response.headers  # FastAPI ignores the parameter here too


@pytest.mark.parametrize("status", [204, 304])
def test_a_status_without_a_body_drops_the_body(client_for: ClientFor, status: int) -> None:
    app = App()

    @app.delete("/items/{name}")
    def delete(name: str, response: Response) -> dict[str, str]:
        response.status_code = status
        return {"deleted": name}

    response = client_for(app).delete("/items/a")
    assert (response.status_code, response.content) == (status, b"")


def test_an_error_after_setting_headers_sends_the_error(client_for: ClientFor) -> None:
    from ambi import HTTPException

    app = App()

    @app.get("/fail")
    def fail(response: Response) -> None:
        response.headers["X-Partial"] = "1"
        raise HTTPException(409, "conflict")

    response = client_for(app).get("/fail")
    assert (response.status_code, response.json()) == (409, {"detail": "conflict"})
    assert "x-partial" not in response.headers
