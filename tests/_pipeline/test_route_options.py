"""Route options that shape the pipeline: response_class (FastAPI's), options not built yet
refused at registration, and routes added after startup."""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import (
    App,
    BaseModel,
    ConfigurationError,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


class CSVResponse(Response):
    media_type = "text/csv"

    def render(self, content: Any) -> bytes:
        return "\n".join(",".join(str(v) for v in row) for row in content).encode()


class User(BaseModel):
    name: str


def test_response_class_renders_the_result(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app.get("/page", response_class=HTMLResponse)(make_handler(lambda: "<h1>hi</h1>"))
    app.get("/csv", response_class=CSVResponse)(make_handler(lambda: [[1, 2], [3, 4]]))
    app.get("/go", response_class=RedirectResponse, status_code=302)(make_handler(lambda: "/page"))
    app.get("/default-redirect", response_class=RedirectResponse)(make_handler(lambda: "/csv"))
    app.get("/explicit", response_class=HTMLResponse)(
        make_handler(lambda: PlainTextResponse("as returned"))
    )
    client = client_for(app)
    page = client.get("/page")
    assert (page.text, page.headers["content-type"]) == ("<h1>hi</h1>", "text/html; charset=utf-8")
    csv = client.get("/csv")
    assert (csv.text, csv.headers["content-type"]) == ("1,2\n3,4", "text/csv; charset=utf-8")
    go = client.get("/go", follow_redirects=False)
    assert (go.status_code, go.headers["location"]) == (302, "/page")
    assert client.get("/default-redirect", follow_redirects=False).status_code == 307
    assert client.get("/explicit").text == "as returned"


def test_response_class_with_a_response_model_filters_first(
    app: App, client_for: ClientFor
) -> None:
    class Listing(Response):
        media_type = "text/plain"

        def render(self, content: Any) -> bytes:
            return f"user={content['name']}".encode()

    @app.get("/user", response_class=Listing, response_model=User)
    def user() -> dict[str, str]:
        return {"name": "ada", "password": "secret"}

    assert client_for(app).get("/user").text == "user=ada"


def test_options_that_cannot_work_are_refused_at_registration(app: App) -> None:
    with pytest.raises(ConfigurationError, match="response_class must be a Response subclass"):
        app.get("/x", response_class=dict)(lambda: {})
    with pytest.raises(ConfigurationError, match="a guard is a callable"):
        app.get("/y", guards=["admin"])(lambda: {})


def test_a_route_added_after_startup_is_served(app: App, client_for: ClientFor) -> None:
    client = client_for(app)
    app.get("/late")(lambda: {"late": True})
    assert client.get("/late").json() == {"late": True}


def test_default_response_class_app_router_include_and_route(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    from ambi import APIRouter

    app = App(default_response_class=HTMLResponse)
    app.get("/app")(make_handler(lambda: "<p>app</p>"))
    app.get("/own", response_class=PlainTextResponse)(make_handler(lambda: "own"))
    csv = APIRouter(prefix="/csv", default_response_class=CSVResponse)
    csv.get("/rows")(make_handler(lambda: [[1, 2]]))
    csv.get("/text", response_class=PlainTextResponse)(make_handler(lambda: "text"))
    plain = APIRouter(prefix="/plain")
    plain.get("/x")(make_handler(lambda: "x"))
    app.include_router(csv, default_response_class=PlainTextResponse)
    app.include_router(plain, default_response_class=PlainTextResponse)
    client = client_for(app)

    def kind(path: str) -> str:
        return client.get(path).headers["content-type"].split(";")[0]

    assert kind("/app") == "text/html"  # the app's default
    assert kind("/own") == "text/plain"  # the route's own
    assert kind("/csv/rows") == "text/csv"  # the router's, over the include's
    assert kind("/csv/text") == "text/plain"
    assert kind("/plain/x") == "text/plain"  # the include's, over the app's


def test_orjson_and_ujson_responses(client_for: ClientFor) -> None:
    from ambi.responses import JSONResponse, ORJSONResponse, UJSONResponse

    assert ORJSONResponse is JSONResponse  # ambi's JSON is orjson already
    app = App()

    @app.get("/u", response_class=UJSONResponse)
    def u() -> dict[str, Any]:
        return {"text": "héllo", "when": __import__("datetime").date(2024, 1, 2)}

    response = client_for(app).get("/u")
    assert response.headers["content-type"] == "application/json"
    assert response.content == '{"text":"héllo","when":"2024-01-02"}'.encode()


def test_ujson_response_without_ujson_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from ambi import responses

    monkeypatch.setattr(responses.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="UJSONResponse needs ujson"):
        App().get("/u", response_class=responses.UJSONResponse)(lambda: {})


def test_unknown_route_options_are_refused() -> None:
    from ambi import APIRouter

    app = App()
    with pytest.raises(ConfigurationError, match=r"unknown route option.*reponse_model"):
        app.get("/a", reponse_model=User)(lambda: {})  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="callbacks: OpenAPI callbacks"):
        app.get("/b", callbacks=[])(lambda: {})  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="default_response_class must be a Response"):
        App(default_response_class=dict)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="default_response_class must be a Response"):
        APIRouter(default_response_class=dict)
