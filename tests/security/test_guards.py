"""Route guards: `guards=[...]` on routes, routers, include_router and the app, sync or
async, run before the body is read; `RoleGuard` over `request.auth`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, ConfigurationError, HTTPException, Request, Router
from ambi._pipeline import Next, StageOrder
from ambi.guards import RoleGuard
from ambi.http import Response
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def _authenticating(app: App) -> None:
    """A stand-in authentication stage: `x-user: name:role1,role2` -> request.auth."""

    async def stage(request: Request, call_next: Next) -> Response:
        user = request.headers.get("x-user")
        if user:
            name, _, roles = user.partition(":")
            request.auth = {"sub": name, "roles": roles.split(",") if roles else []}
        return await call_next(request)

    app.add_stage(StageOrder.AUTHENTICATION, lambda route, app: stage)


def test_a_guard_lets_through_or_refuses(
    app: App, client_for: ClientFor, make_handler: MakeHandler, handler_kind: str
) -> None:
    threads: list[str] = []

    def only_admins(request: Request) -> bool:
        threads.append(threading.current_thread().name)
        return request.headers.get("x-admin") == "yes"

    guard = make_handler(only_admins)
    app.get("/admin", guards=[guard])(lambda: {"ok": True})
    client = client_for(app)
    assert client.get("/admin", headers={"x-admin": "yes"}).json() == {"ok": True}
    refused = client.get("/admin")
    assert refused.status_code == 403
    assert "only_admins" in refused.json()["detail"]
    # A sync guard runs in the pool (never on the loop); an async one on the loop.
    in_pool = [name.startswith("ambi-worker") for name in threads]
    assert in_pool == [handler_kind == "sync"] * 2


def test_a_guard_that_returns_nothing_refuses(app: App, client_for: ClientFor) -> None:
    def forgot_to_return(request: Request) -> None:
        request.headers.get("x")

    app.get("/x", guards=[forgot_to_return])(lambda: "never")
    assert client_for(app).get("/x").status_code == 403


def test_a_guard_may_raise_its_own_answer(app: App, client_for: ClientFor) -> None:
    async def hidden(request: Request) -> bool:
        raise HTTPException(404, "no such thing", {"x-why": "hidden"})

    app.get("/secret", guards=[hidden])(lambda: "never")
    response = client_for(app).get("/secret")
    assert (response.status_code, response.json(), response.headers["x-why"]) == (
        404,
        {"detail": "no such thing"},
        "hidden",
    )


def test_guards_run_app_then_routers_then_route_and_stop_at_the_first_refusal(
    client_for: ClientFor,
) -> None:
    order: list[str] = []

    def named(name: str) -> Callable[[Request], bool]:
        async def guard(request: Request) -> bool:
            order.append(name)
            return request.headers.get("x-stop") != name

        guard.__qualname__ = name
        return guard

    app = App(guards=[named("app")])
    inner = Router(prefix="/inner", guards=[named("router")])
    inner.get("/x", guards=[named("route")])(lambda: "done")
    app.include_router(inner, prefix="/api", guards=[named("include")])
    client = client_for(app)
    assert client.get("/api/inner/x").text == "done"
    assert order == ["app", "include", "router", "route"]
    order.clear()
    assert client.get("/api/inner/x", headers={"x-stop": "include"}).status_code == 403
    assert order == ["app", "include"]
    # The app's guards do not lock the docs out.
    order.clear()
    assert client.get("/openapi.json").status_code == 200
    assert order == []


def test_an_unauthorised_request_is_refused_before_its_body_is_read_or_validated(
    app: App, client_for: ClientFor
) -> None:
    validated: list[int] = []

    def deny(request: Request) -> bool:
        return False

    @app.post("/upload", guards=[deny])
    def upload(request: Request, size: int = 0) -> dict[str, int]:
        validated.append(len(request.body))
        return {"size": len(request.body)}

    client = client_for(app)
    # Far over max_body_size: had the body been read first, this would be a 413.
    response = client.post("/upload?size=oops", content=b"x" * (2 * app.max_body_size))
    assert response.status_code == 403  # not 413 (body), not 422 (query validation)
    assert validated == []


def test_no_guard_no_stage(app: App, client_for: ClientFor) -> None:
    @app.get("/free")
    def free() -> str:
        return "free"

    client_for(app)
    (route,) = app.compiled
    assert route.handle == route._core()  # nothing wrapped around the core


@pytest.mark.parametrize(
    ("user", "status", "detail"),
    [
        (None, 401, "Not authenticated: this route needs one of the roles editor, admin"),
        ("ann:viewer", 403, "Forbidden: this route needs one of the roles editor, admin"),
        ("bob:editor", 200, None),
        ("cat:viewer,admin", 200, None),
    ],
)
def test_role_guard(
    app: App, client_for: ClientFor, user: str | None, status: int, detail: str | None
) -> None:
    _authenticating(app)
    app.post("/items", guards=[RoleGuard(["editor", "admin"])])(lambda: {"made": True})
    headers = {"x-user": user} if user else {}
    response = client_for(app).post("/items", headers=headers)
    assert response.status_code == status
    if detail is not None:
        assert response.json() == {"detail": detail}
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_role_guard_claims_and_require_all(app: App, client_for: ClientFor) -> None:
    async def claims(request: Request, call_next: Next) -> Response:
        request.auth = {"role": request.headers.get("x-role"), "groups": ["a", "b"]}
        return await call_next(request)

    app.add_stage(StageOrder.AUTHENTICATION, lambda route, app: claims)
    app.get("/single", guards=[RoleGuard(["editor"])])(lambda: "ok")
    app.get("/groups", guards=[RoleGuard(["a", "b"], claim="groups", require_all=True)])(
        lambda: "ok"
    )
    app.get("/groups-c", guards=[RoleGuard(["a", "c"], claim="groups", require_all=True)])(
        lambda: "ok"
    )
    client = client_for(app)
    assert client.get("/single", headers={"x-role": "editor"}).status_code == 200
    assert client.get("/single", headers={"x-role": "viewer"}).status_code == 403
    assert client.get("/groups").status_code == 200
    refused = client.get("/groups-c")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Forbidden: this route needs all of the roles a, c"


def test_role_guard_reads_attributes_and_ignores_odd_claims() -> None:
    class Claims:
        roles = ("editor",)

    guard = RoleGuard(["editor"])
    assert guard.held(Claims()) == {"editor"}
    assert guard.held({"roles": 7}) == frozenset()
    assert guard.held({"roles": ["editor", 3]}) == {"editor"}
    assert repr(RoleGuard(["a"], require_all=True)) == "RoleGuard(['a'], require_all=True)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RoleGuard("editor"), "not the string"),
        (lambda: RoleGuard([]), "one or more role names"),
        (lambda: RoleGuard([""]), "one or more role names"),
        (lambda: App(guards=[42]), "a guard is a callable"),
        (lambda: App(guards="admin"), "takes a list of callables"),
        (lambda: Router(guards=[None]), "a guard is a callable"),
    ],
)
def test_guard_mistakes_are_configuration_errors(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_include_router_checks_its_guards(app: App) -> None:
    with pytest.raises(ConfigurationError, match="a guard is a callable"):
        app.include_router(Router(), guards=["x"])
