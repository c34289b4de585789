"""`TestClient` / `AsyncTestClient` behave as Starlette's where tests depend on it."""

from collections.abc import Callable

import pytest

from ambi import App, Request, Response
from ambi.testing import AsyncTestClient, TestClient

ClientFor = Callable[..., TestClient]


class Boom(Exception):
    pass


def _app() -> App:
    app = App()

    @app.get("/old")
    def old() -> Response:
        from ambi import RedirectResponse

        return RedirectResponse("/new")

    @app.get("/new")
    def new(request: Request) -> dict[str, str]:
        return {"agent": request.headers["user-agent"], "seen": request.cookies.get("s", "")}

    @app.get("/login")
    def login(response: Response) -> dict[str, bool]:
        response.set_cookie("s", "v1")
        return {"ok": True}

    @app.get("/boom")
    def boom() -> None:
        raise Boom("kaboom")

    return app


def test_defaults(interface: str) -> None:
    app = _app()
    with TestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        assert client.app is app
        followed = client.get("/old")
        assert followed.json() == {"agent": "testclient", "seen": ""}
        assert followed.history[0].status_code == 307
        assert client.get("/old", follow_redirects=False).status_code == 307
        client.get("/login")
        assert client.get("/new").json()["seen"] == "v1"  # the cookie was kept
        custom = client.get("/new", headers={"User-Agent": "mine"})
        assert custom.json()["agent"] == "mine"
        with pytest.raises(Boom, match="kaboom"):
            client.get("/boom")
        assert client.get("/new").status_code == 200  # the app goes on serving


def test_server_errors_as_responses(interface: str) -> None:
    with TestClient(_app(), interface=interface, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        response = client.get("/boom")
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})


def test_a_failing_exception_handler_raises_too(client_for: ClientFor) -> None:
    app = _app()

    @app.exception_handler(Boom)
    def broken(request: Request, exc: Boom) -> None:
        raise RuntimeError("the handler broke")

    with pytest.raises(RuntimeError, match="the handler broke"):
        client_for(app).get("/boom")


def test_handled_errors_do_not_raise(client_for: ClientFor) -> None:
    app = _app()
    app.add_exception_handler(Boom, lambda request, exc: ({"handled": str(exc)}, 503))
    response = client_for(app).get("/boom")
    assert (response.status_code, response.json()) == (503, {"handled": "kaboom"})


async def test_async_client(interface: str) -> None:
    app = _app()
    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        assert client.app is app
        assert (await client.get("/old")).json() == {"agent": "testclient", "seen": ""}
        await client.get("/login")
        assert (await client.get("/new")).json()["seen"] == "v1"
        with pytest.raises(Boom):
            await client.get("/boom")
    async with AsyncTestClient(app, raise_server_exceptions=False) as quiet:
        assert (await quiet.get("/boom")).status_code == 500
