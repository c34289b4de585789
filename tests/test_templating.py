"""`Jinja2Templates.TemplateResponse(request, name, context)` in `def` and `async def`
handlers, over ASGI and RSGI: rendering, `url_for`, escaping, errors, and where the
rendering runs (never on the event loop)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from ambi import App, ConfigurationError, HTTPException, Request
from ambi.templating import Jinja2Templates, TemplateResponse
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


@pytest.fixture
def templates(tmp_path: Path) -> Jinja2Templates:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(
        "<h1>{{ title }}</h1><p>{{ request.method }} {{ request.path }}</p>"
    )
    (folder / "links.html").write_text(
        "{{ url_for('item', item_id=7) }} {{ url_for('static', path='site.css') }} "
        "{{ url_for('home') }}"
    )
    (folder / "thread.html").write_text("{{ where() }}")
    (folder / "broken.html").write_text("{{ 1 / 0 }}")
    (folder / "base.html").write_text("[{% block body %}{% endblock %}]")
    (folder / "child.html").write_text(
        "{% extends 'base.html' %}{% block body %}{{ word }}{% endblock %}"
    )
    return Jinja2Templates(directory=folder)


def test_renders_with_request_and_context(
    client_for: ClientFor, make_handler: Any, templates: Jinja2Templates
) -> None:
    app = App()

    def page(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "page.html", {"title": "<b>Hi</b>"})

    app.get("/page")(make_handler(page))
    response = client_for(app).get("/page")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>&lt;b&gt;Hi&lt;/b&gt;</h1><p>GET /page</p>"  # escaped
    assert response.headers["content-length"] == str(len(response.content))


def test_status_headers_and_inheritance(
    client_for: ClientFor, make_handler: Any, templates: Jinja2Templates
) -> None:
    app = App()

    def page(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(
            request, "child.html", {"word": "w"}, 201, {"x-t": "1"}, "application/xhtml+xml"
        )

    app.get("/page")(make_handler(page))
    response = client_for(app).get("/page")
    assert (response.status_code, response.text) == (201, "[w]")
    assert response.headers["x-t"] == "1"
    assert response.headers["content-type"] == "application/xhtml+xml"


def test_url_for_routes_and_static(
    client_for: ClientFor, make_handler: Any, templates: Jinja2Templates, tmp_path: Path
) -> None:
    app = App()
    app.mount_static("/static", tmp_path)
    app.get("/", name="home")(make_handler(lambda: "home"))
    app.get("/items/{item_id:int}", name="item")(make_handler(lambda item_id: item_id))
    app.get("/links")(
        make_handler(lambda request: templates.TemplateResponse(request, "links.html"))
    )
    assert client_for(app).get("/links").text == "/items/7 /static/site.css /"


def test_rendering_never_runs_on_the_event_loop(
    client_for: ClientFor, make_handler: Any, templates: Jinja2Templates
) -> None:
    seen: list[str] = []

    def where() -> str:
        seen.append(threading.current_thread().name)
        return "rendered"

    templates.env.globals["where"] = where
    app = App()
    app.get("/t")(make_handler(lambda request: templates.TemplateResponse(request, "thread.html")))
    assert client_for(app).get("/t").text == "rendered"
    assert seen
    assert seen[0].startswith("ambi-worker")


def test_render_errors_are_500s(
    client_for: ClientFor, make_handler: Any, templates: Jinja2Templates, caplog: Any
) -> None:
    app = App()
    app.get("/broken")(
        make_handler(lambda request: templates.TemplateResponse(request, "broken.html"))
    )
    app.get("/missing")(
        make_handler(lambda request: templates.TemplateResponse(request, "nope.html"))
    )
    client = client_for(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="ambi.app"):
        for path in ("/broken", "/missing"):
            response = client.get(path)
            assert response.status_code == 500
            assert response.json() == {"detail": "Internal Server Error"}
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any(isinstance(e, ZeroDivisionError) for e in errors)
    assert any(isinstance(e, jinja2.TemplateNotFound) for e in errors)


def test_exception_handler_may_answer_with_a_template(
    client_for: ClientFor, make_handler: Any, templates: Jinja2Templates
) -> None:
    app = App()

    def not_found(request: Request, exc: HTTPException) -> TemplateResponse:
        return templates.TemplateResponse(request, "page.html", {"title": exc.detail}, 404)

    app.exception_handler(404)(make_handler(not_found))
    response = client_for(app).get("/nowhere")
    assert response.status_code == 404
    assert response.text == "<h1>Not Found</h1><p>GET /nowhere</p>"


def test_response_says_what_was_rendered(templates: Jinja2Templates) -> None:
    app = App()
    app.get("/p")(lambda request: templates.TemplateResponse(request, "page.html", {"title": 1}))
    with TestClient(app) as client:
        assert client.get("/p").status_code == 200
    request = Request(app, "GET", "/p", "", [])
    response = templates.TemplateResponse(request, "page.html", {"title": 1})
    assert response.template_name == "page.html"
    assert response.context == {"title": 1, "request": request}
    assert response.deferred  # made off the thread pool: rendered before sending


def test_env_and_options(tmp_path: Path) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ x }}"}), autoescape=False)
    templates = Jinja2Templates(env=env)
    assert templates.get_template("a.html").render(x="<i>") == "<i>"
    assert "url_for" in env.globals
    folder = tmp_path / "t"
    folder.mkdir()
    trimmed = Jinja2Templates(directory=[folder], trim_blocks=True)
    assert trimmed.env.trim_blocks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "a directory or an env"),
        ({"directory": "nope", "env": jinja2.Environment()}, "a directory or an env"),
        ({"directory": "/no/such/folder"}, "no directory '/no/such/folder'"),
        ({"env": jinja2.Environment(), "trim_blocks": True}, "takes no environment options"),
    ],
)
def test_configuration_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Jinja2Templates(**kwargs)


def test_the_request_comes_first(templates: Jinja2Templates) -> None:
    with pytest.raises(TypeError, match="the request comes first"):
        templates.TemplateResponse("page.html", {"request": None})  # type: ignore[arg-type]
