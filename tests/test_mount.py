"""`app.mount(path, target)`: ambi apps, Starlette apps and raw ASGI apps, over ASGI and
RSGI: scopes, bodies, streams, files, errors, lifespans, and which requests reach a mount."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import FileResponse as StarletteFileResponse
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.staticfiles import StaticFiles as StarletteStaticFiles

from ambi import App, ConfigurationError, HTTPException, Request
from ambi._mount import LifespanError
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
Scope = dict[str, Any]


def starlette_app(events: list[str] | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        if events is not None:
            events.append("startup")
        yield {"db": "connected"}
        if events is not None:
            events.append("shutdown")

    async def where(request: StarletteRequest) -> Response:
        return PlainTextResponse(
            f"{request.url.path}|{request.scope['root_path']}|{request.url_for('where')}|"
            f"{request.state.db}|{request.query_params.get('q')}|{request.headers['x-a']}"
        )

    async def echo(request: StarletteRequest) -> Response:
        body = await request.body()
        return PlainTextResponse(body[::-1], headers={"x-length": str(len(body))})

    async def stream(request: StarletteRequest) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"{i};".encode()

        return StreamingResponse(chunks())

    async def crash(request: StarletteRequest) -> Response:
        raise RuntimeError("starlette handler failed")

    return Starlette(
        routes=[
            Route("/where", where, name="where"),
            Route("/echo", echo, methods=["POST"]),
            Route("/stream", stream),
            Route("/crash", crash),
        ],
        lifespan=lifespan,
    )


# Starlette apps ---------------------------------------------------------------------------


def test_starlette_app_sees_the_scope_it_expects(client_for: ClientFor) -> None:
    app = App()
    app.mount("/sub", starlette_app())
    response = client_for(app).get("/sub/where?q=1", headers={"x-a": "b"})
    assert response.text == "/sub/where|/sub|http://testserver/sub/where|connected|1|b"


def test_starlette_body_and_stream(client_for: ClientFor) -> None:
    app = App(max_body_size=10)  # the mounted app reads the body itself: no ambi limit
    app.mount("/sub", starlette_app())
    client = client_for(app)
    body = bytes(range(256)) * 400
    echoed = client.post("/sub/echo", content=body)
    assert echoed.content == body[::-1]
    assert echoed.headers["x-length"] == str(len(body))
    assert client.post("/sub/echo", content=iter([b"ab", b"cd"])).text == "dcba"
    assert client.get("/sub/stream").text == "0;1;2;"
    head = client.head("/sub/where", headers={"x-a": "b"})
    assert (head.status_code, head.content) == (200, b"")


def test_starlette_lifespan_runs_with_the_app(interface: str) -> None:
    events: list[str] = []
    app = App()
    app.mount("/sub", starlette_app(events))
    with TestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        assert events == ["startup"]
        assert client.get("/sub/where", headers={"x-a": "b"}).status_code == 200
    assert events == ["startup", "shutdown"]


def test_starlette_error_after_its_500(client_for: ClientFor, caplog: Any) -> None:
    """Starlette answers 500 and then re-raises: the answer stands, the error is logged."""
    app = App()
    app.mount("/sub", starlette_app())
    with caplog.at_level(logging.ERROR, logger="ambi.mount"):
        response = client_for(app, raise_server_exceptions=False).get("/sub/crash")
    assert response.status_code == 500
    assert any("mounted at /sub failed" in r.getMessage() for r in caplog.records)


def test_starlette_static_files_and_pathsend(client_for: ClientFor, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("from starlette")
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * 200_000)

    async def download(request: StarletteRequest) -> Response:
        return StarletteFileResponse(big)

    app = App()
    app.mount("/files", StarletteStaticFiles(directory=tmp_path))
    app.mount("/dl", Starlette(routes=[Route("/", download)]))
    client = client_for(app)
    assert client.get("/files/a.txt").text == "from starlette"
    assert client.get("/files/nope").status_code == 404
    assert client.get("/dl/").content == b"z" * 200_000


# Raw ASGI apps ----------------------------------------------------------------------------


def test_app_failing_before_its_response_is_a_500(client_for: ClientFor, caplog: Any) -> None:
    async def broken(scope: Scope, receive: Any, send: Any) -> None:
        raise RuntimeError("no")

    async def silent(scope: Scope, receive: Any, send: Any) -> None:
        return None

    app = App()
    app.mount("/broken", broken)
    app.mount("/silent", silent)
    client = client_for(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="ambi.mount"):
        for path in ("/broken", "/silent/x"):
            response = client.get(path)
            assert response.status_code == 500
            assert response.json() == {"detail": "Internal Server Error"}
    messages = [r.getMessage() for r in caplog.records]
    assert any("mounted at /broken failed" in m for m in messages)
    assert any("/silent returned without a response" in m for m in messages)


def test_app_failing_in_the_middle_of_its_response(client_for: ClientFor) -> None:
    async def cut(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise RuntimeError("cut off")

    app = App()
    app.mount("/cut", cut)
    with pytest.raises(RuntimeError, match="cut off"):  # the server must drop the connection
        client_for(app).get("/cut")


def test_receive_reports_the_end_after_the_response(client_for: ClientFor) -> None:
    seen: list[str] = []

    async def app_reading_on(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # no lifespan
        seen.append((await receive())["type"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        seen.append((await receive())["type"])

    app = App()
    app.mount("/", app_reading_on)
    assert client_for(app).get("/anything").text == "done"
    assert seen == ["http.request", "http.disconnect"]


def test_scope_of_a_raw_app(client_for: ClientFor) -> None:
    scopes: list[Scope] = []

    async def record(scope: Scope, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": [(b"x-k", b"v")]})
        await send({"type": "http.response.body", "body": b""})

    app = App()
    app.mount("/raw", record)
    response = client_for(app).get("/raw/a%20b?x=1")
    assert response.status_code == 204
    assert response.headers["x-k"] == "v"
    assert [s["type"] for s in scopes] == ["lifespan", "http"]  # it was offered a lifespan
    scope = scopes[1]
    assert scope["path"] == "/raw/a b"
    assert scope["raw_path"] == b"/raw/a%20b"
    assert scope["root_path"] == "/raw"
    assert scope["query_string"] == b"x=1"
    assert scope["method"] == "GET"
    assert scope["asgi"]["version"] == "3.0"
    assert (b"host", b"testserver") in scope["headers"]
    assert "http.response.pathsend" in scope["extensions"]


def lifespan_app(startup: str, shutdown: str = "lifespan.shutdown.complete") -> Any:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return
        await receive()
        await send({"type": startup, "message": "cannot connect"})
        if startup.endswith("failed"):
            return
        await receive()
        await send({"type": shutdown, "message": "cannot disconnect"})

    return app


def test_lifespan_failures_are_errors() -> None:
    app = App()
    app.mount("/x", lifespan_app("lifespan.startup.failed"))
    with (
        pytest.raises(RuntimeError, match="mounted at /x failed to start: cannot connect"),
        TestClient(app, interface="rsgi"),
    ):
        pass
    app = App()
    app.mount("/x", lifespan_app("lifespan.startup.complete", "lifespan.shutdown.failed"))
    client = TestClient(app, interface="rsgi")
    client.__enter__()
    with pytest.raises(LifespanError, match="failed to shut down: cannot disconnect"):
        client.__exit__()


def test_app_without_lifespan_is_served(client_for: ClientFor) -> None:
    async def http_only(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError("only http")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = App()
    app.mount("/h", http_only)
    assert client_for(app).get("/h").text == "ok"


# ambi apps --------------------------------------------------------------------------------


def test_mounted_ambi_app(client_for: ClientFor, make_handler: Any) -> None:
    started: list[str] = []
    sub = App()
    sub.on_event("startup")(lambda: started.append("sub"))

    def item(item_id: int, request: Request) -> dict[str, Any]:
        if item_id == 0:
            raise HTTPException(404, "no item 0")
        return {"item_id": item_id, "path": request.path, "same_app": request.app is sub}

    sub.get("/items/{item_id:int}")(make_handler(item))
    sub.post("/echo")(make_handler(lambda request: {"body": request.body.decode()}))

    @sub.exception_handler(404)
    def sub_not_found(request: Request, exc: HTTPException) -> dict[str, Any]:
        return {"sub": exc.detail}, 404  # type: ignore[return-value]

    app = App()
    app.mount("/api", sub, name="api")
    client = client_for(app)
    assert started == ["sub"]
    assert client.get("/api/items/3").json() == {
        "item_id": 3,
        "path": "/items/3",
        "same_app": True,
    }
    assert client.post("/api/echo", content=b"hi").json() == {"body": "hi"}
    assert client.get("/api/items/0").json() == {"sub": "no item 0"}
    assert client.get("/api/nope").json() == {"sub": "Not Found"}
    assert client.get("/api").json() == {"sub": "Not Found"}  # "/" of the sub-app
    assert app.url_path_for("api:item", item_id=5) == "/api/items/5"


# Which requests reach a mount -------------------------------------------------------------


def _named(text: str) -> Any:
    async def answer(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": text.encode()})

    return answer


def test_routes_first_then_the_longest_mount(client_for: ClientFor) -> None:
    app = App()
    app.mount("/", _named("root"))
    app.mount("/a", _named("a"))
    app.mount("/a/b", _named("a/b"))

    @app.get("/a/route")
    def route() -> str:
        return "route"

    client = client_for(app)
    assert client.get("/a/route").text == "route"
    assert client.get("/a/b/c").text == "a/b"
    assert client.get("/a/b").text == "a/b"
    assert client.get("/a/bc").text == "a"  # a mount path matches whole segments
    assert client.get("/a").text == "a"
    assert client.get("/ab").text == "root"
    assert client.get("/").text == "root"


def test_a_405_from_routes_is_not_handed_to_mounts(client_for: ClientFor) -> None:
    app = App()
    app.mount("/", _named("root"))
    app.get("/thing")(lambda: "thing")
    assert client_for(app).post("/thing").status_code == 405


def test_no_mount_is_a_404(client_for: ClientFor) -> None:
    app = App()
    app.mount("/a", _named("a"))
    assert client_for(app).get("/b").json() == {"detail": "Not Found"}


# Configuration ----------------------------------------------------------------------------


def _sync_app(scope: Scope, receive: Any, send: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("path", "target", "message"),
    [
        ("static", _named("x"), "must start with '/'"),
        ("/static/", _named("x"), "must not end with '/'"),
        ("/s/{name}", _named("x"), "cannot have parameters"),
        ("/s", _sync_app, "an async callable"),
        ("/s", 42, "not 42"),
    ],
)
def test_bad_mounts(path: str, target: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App().mount(path, target)


def test_conflicting_mounts() -> None:
    app = App()
    app.mount("/a", _named("a"), name="a")
    with pytest.raises(ConfigurationError, match="'/a' is already mounted"):
        app.mount("/a", _named("b"))
    with pytest.raises(ConfigurationError, match="a mount named 'a' exists already"):
        app.mount("/b", _named("b"), name="a")
    with pytest.raises(ConfigurationError, match="cannot be mounted in itself"):
        app.mount("/self", app)


# The bridge itself ------------------------------------------------------------------------


def test_pathsend_over_both_interfaces(client_for: ClientFor, tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"f" * 100_000)

    async def sends_a_path(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-length", b"100000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": str(tmp_path / "f.bin")})

    app = App()
    app.mount("/f", sends_a_path)
    client = client_for(app)
    assert client.get("/f").content == b"f" * 100_000
    head = client.head("/f")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == "100000"


async def test_headers_set_on_the_response_are_added(interface: str) -> None:
    """What middleware sets on a mounted app's response reaches the client."""
    from ambi._mount._bridge import ASGIAppResponse, asgi_scope
    from ambi._testing_wire import _RSGIProto

    app = App()
    engine = app.engine
    request = Request(app, "GET", "/m/x", "", [("host", "h")], server="h:80")
    response = ASGIAppResponse(_named("body"), request, asgi_scope(request, "/m", {}), "/m")
    response.headers["x-extra"] = "1"
    if interface == "rsgi":
        proto = _RSGIProto(b"")
        await response.serve_rsgi(proto, engine, False)
        assert (proto.status, b"".join(proto.chunks)) == (200, b"body")
        assert ("x-extra", "1") in proto.headers
    else:
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        await response.serve_asgi(send, engine, False)
        assert (b"x-extra", b"1") in sent[0]["headers"]
        assert sent[1]["body"] == b"body"
    engine.stop()


def test_mounting_after_startup_is_refused() -> None:
    app = App()
    with TestClient(app), pytest.raises(ConfigurationError, match="after the app started"):
        app.mount("/late", _named("late"))
    app.mount("/late", _named("late"))  # stopped again: fine
