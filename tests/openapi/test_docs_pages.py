"""Serving `/openapi.json`, `/docs`, `/redoc` and their assets, and turning them off."""

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ambi import App, RouteConflictError
from ambi.openapi import redoc_html, swagger_ui_html
from ambi.openapi._docs import REDOC_VERSION, STATIC_DIR, STATIC_FILES, SWAGGER_UI_VERSION
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def with_route(app: App) -> App:
    @app.get("/hello")
    def hello(name: str = "world") -> dict[str, str]:
        return {"hello": name}

    return app


def test_openapi_json_is_served(client_for: ClientFor) -> None:
    client = client_for(with_route(App(title="T")))
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["info"]["title"] == "T"
    assert set(document["paths"]) == {"/hello"}


def test_swagger_ui_page(client_for: ClientFor) -> None:
    client = client_for(with_route(App(title="My <API>")))
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert f'src="/docs/static/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}"' in page
    assert f'href="/docs/static/swagger-ui.css?v={SWAGGER_UI_VERSION}"' in page
    assert '"url": "/openapi.json"' in page
    assert "My &lt;API&gt; - Swagger UI" in page
    assert "http" not in page.replace('"url": "/openapi.json"', "")  # nothing from the web


def test_redoc_page(client_for: ClientFor) -> None:
    client = client_for(with_route(App()))
    page = client.get("/redoc").text
    assert '<redoc spec-url="/openapi.json"></redoc>' in page
    assert f'src="/docs/static/redoc.standalone.js?v={REDOC_VERSION}"' in page
    assert "http" not in page


@pytest.mark.parametrize("name", sorted(STATIC_FILES))
def test_assets_are_served_from_the_package(client_for: ClientFor, name: str) -> None:
    client = client_for(App())
    response = client.get(f"/docs/static/{name}")
    assert response.status_code == 200
    assert response.content == STATIC_FILES[name][0].read_bytes()
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    expected = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[
        name.rsplit(".", 1)[1]
    ]
    assert response.headers["content-type"].startswith(expected)


@pytest.mark.parametrize("name", ["nope.js", "README.md", "LICENSE", "redoc"])
def test_only_known_assets_are_served(client_for: ClientFor, name: str) -> None:
    assert client_for(App()).get(f"/docs/static/{name}").status_code == 404


def test_docs_url_none_turns_swagger_off(client_for: ClientFor) -> None:
    client = client_for(with_route(App(docs_url=None)))
    assert client.get("/docs").status_code == 404
    page = client.get("/redoc").text
    assert "/redoc/static/redoc.standalone.js" in page
    assert client.get("/redoc/static/redoc.standalone.js").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_both_pages_off(client_for: ClientFor) -> None:
    client = client_for(with_route(App(docs_url=None, redoc_url=None)))
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/static/swagger-ui.css").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_openapi_url_none_turns_everything_off(client_for: ClientFor) -> None:
    client = client_for(with_route(App(openapi_url=None)))
    for url in ("/openapi.json", "/docs", "/redoc", "/docs/static/swagger-ui.css"):
        assert client.get(url).status_code == 404, url
    assert client.get("/hello").json() == {"hello": "world"}


def test_custom_urls(client_for: ClientFor) -> None:
    app = App(openapi_url="/api/schema.json", docs_url="/api/docs", redoc_url="/api/redoc")
    client = client_for(with_route(app))
    assert client.get("/api/schema.json").status_code == 200
    assert '"url": "/api/schema.json"' in client.get("/api/docs").text
    assert 'spec-url="/api/schema.json"' in client.get("/api/redoc").text
    assert client.get("/api/docs/static/swagger-ui.css").status_code == 200
    assert client.get("/docs").status_code == 404


def test_the_docs_routes_are_not_the_apps_routes() -> None:
    app = with_route(App())
    assert [r.path for r in app.routes] == ["/hello"]
    assert len(app.compiled) == 1


def test_a_user_route_on_a_docs_url_is_a_conflict() -> None:
    app = App()
    with pytest.raises(RouteConflictError, match="/docs"):
        app.get("/docs")(lambda: None)
    free = App(docs_url=None)
    free.get("/docs")(lambda: None)


def test_the_document_is_served_fresh_after_new_routes(client_for: ClientFor) -> None:
    app = with_route(App())
    client = client_for(app)
    assert set(client.get("/openapi.json").json()["paths"]) == {"/hello"}

    @app.get("/later")
    def later() -> None:
        return None

    assert set(client.get("/openapi.json").json()["paths"]) == {"/hello", "/later"}


def test_page_builders_escape_their_inputs() -> None:
    page = swagger_ui_html("</title><script>", "/o.json?a=1&b=</script>", "/s")
    assert "</title><script>" not in page
    assert '</script>"' not in page
    assert "<\\/script>" in page
    assert "&lt;/title&gt;" in redoc_html("</title>", "/o", "/s")


def test_the_assets_and_their_licences_ship_in_the_wheel(tmp_path: Path) -> None:
    builders = pytest.importorskip("hatchling.builders.wheel")
    root = Path(__file__).resolve().parents[2]
    wheel = next(iter(builders.WheelBuilder(str(root)).build(directory=str(tmp_path))))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"ambi/openapi/static/{path.relative_to(STATIC_DIR).as_posix()}"
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
    }
    assert shipped <= names
    for licence in ("swagger-ui/LICENSE", "swagger-ui/NOTICE", "redoc/LICENSE"):
        assert f"ambi/openapi/static/{licence}" in names


def test_static_files_exist() -> None:
    for path, _version in STATIC_FILES.values():
        assert path.is_file(), path
        assert path.stat().st_size > 0
