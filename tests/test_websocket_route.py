"""Websocket routes: registration, the connection parameter, typed parameters (1008 when
invalid), errors turned into close codes, routers; over ASGI and RSGI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

import pytest

from ambi import (
    App,
    BackgroundTasks,
    ConfigurationError,
    Cookie,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    RouteConflictError,
    Router,
    SignatureError,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
)
from ambi.testing import TestClient, WebSocketDenialResponse

ClientFor = Callable[..., TestClient]


def refused_with(interface: str, code: int) -> int:
    """The code a refused handshake shows: ASGI's close message keeps the app's code; on
    RSGI the handshake is an HTTP 403, which a client reports as 1006."""
    return code if interface == "asgi" else 1006


def closed_with(interface: str, code: int) -> int:
    return code if interface == "asgi" else 1005


def test_connection_parameter_by_annotation_name_or_position(
    app: App, client_for: ClientFor
) -> None:
    async def talk(websocket: Any, label: str) -> None:
        await websocket.accept()
        await websocket.send_text(label)

    @app.websocket("/annotated")
    async def annotated(conn: WebSocket) -> None:
        await talk(conn, "annotated")

    @app.websocket("/named/{room}")
    async def named(room: str, ws) -> None:  # type: ignore[no-untyped-def]
        await talk(ws, f"named {room}")

    @app.websocket("/first/{room}")
    async def first(connection, room: str) -> None:  # type: ignore[no-untyped-def]
        await talk(connection, f"first {room}")

    client = client_for(app)
    for path, expected in [
        ("/annotated", "annotated"),
        ("/named/a", "named a"),
        ("/first/b", "first b"),
    ]:
        with client.websocket_connect(path) as ws:
            assert ws.receive_text() == expected


def test_typed_parameters_from_the_handshake(app: App, client_for: ClientFor) -> None:
    @app.websocket("/items/{item_id:int}")
    async def items(
        websocket: WebSocket,
        item_id: int,
        *,
        limit: Annotated[int, Query(ge=1)] = 10,
        tags: list[str] | None = None,
        x_token: Annotated[str, Header()] = "none",
        session: Annotated[str | None, Cookie()] = None,
    ) -> None:
        await websocket.accept()
        await websocket.send_json(
            {"item_id": item_id, "limit": limit, "tags": tags, "token": x_token, "s": session}
        )

    client = client_for(app, cookies={"session": "c"})
    with client.websocket_connect(
        "/items/7?limit=3&tags=a&tags=b", headers={"x-token": "tok"}
    ) as ws:
        assert ws.receive_json() == {
            "item_id": 7,
            "limit": 3,
            "tags": ["a", "b"],
            "token": "tok",
            "s": "c",
        }


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/typed?limit=0", "query.limit: Input should be greater than or equal to 1"),
        ("/typed?limit=x", "query.limit: Input should be a valid integer"),
        ("/typed", "query.needed: Field required"),
    ],
)
def test_invalid_parameters_refuse_the_handshake_with_1008(
    app: App, client_for: ClientFor, interface: str, url: str, reason: str
) -> None:
    ran: list[bool] = []

    @app.websocket("/typed")
    async def typed(
        websocket: WebSocket, needed: str = Query(), limit: int = Query(1, ge=1)
    ) -> None:
        ran.append(True)
        await websocket.accept()

    url = url if "needed" in url or url == "/typed" else f"{url}&needed=1"
    with pytest.raises(WebSocketDisconnect) as exc_info:
        client_for(app).websocket_connect(url).__enter__()
    assert exc_info.value.code == refused_with(interface, 1008)
    if interface == "asgi":
        assert exc_info.value.reason.startswith(reason)
    assert ran == []


def test_no_route_refuses_the_handshake(app: App, client_for: ClientFor, interface: str) -> None:
    @app.get("/http-only")
    def http_only() -> str:
        return "ok"

    client = client_for(app)
    for path in ("/nowhere", "/http-only"):
        with pytest.raises(WebSocketDisconnect) as exc_info:
            client.websocket_connect(path).__enter__()
        assert exc_info.value.code == refused_with(interface, 1000)
    assert client.get("/http-only").text == "ok"


def test_handler_errors_become_close_codes(
    app: App, client_for: ClientFor, interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/boom")
    async def boom(websocket: WebSocket) -> None:
        await websocket.accept()
        raise ValueError("secret detail")

    @app.websocket("/boom-early")
    async def boom_early(websocket: WebSocket) -> None:
        raise ValueError("before accept")

    @app.websocket("/policy")
    async def policy(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(4403, "not in this room")

    @app.websocket("/http-error")
    async def http_error(websocket: WebSocket) -> None:
        raise HTTPException(401, "who are you")

    @app.websocket("/returns")
    async def returns(websocket: WebSocket) -> None:
        await websocket.accept()

    @app.websocket("/never-accepts")
    async def never_accepts(websocket: WebSocket) -> None:
        return None

    client = client_for(app)
    with caplog.at_level(logging.ERROR, "ambi.websocket"):
        with client.websocket_connect("/boom") as ws, pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
        assert exc.value.code == closed_with(interface, 1011)
        assert "secret" not in exc.value.reason
        with pytest.raises(WebSocketDisconnect) as exc:
            client.websocket_connect("/boom-early").__enter__()
        assert exc.value.code == refused_with(interface, 1011)
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [ValueError, ValueError]

    with client.websocket_connect("/policy") as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_text()
    assert exc.value.code == closed_with(interface, 4403)
    with pytest.raises(WebSocketDenialResponse) as denied:
        client.websocket_connect("/http-error").__enter__()
    assert denied.value.status_code == 401
    with client.websocket_connect("/returns") as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_text()
    assert exc.value.code == closed_with(interface, 1000)
    with pytest.raises(WebSocketDisconnect) as exc:
        client.websocket_connect("/never-accepts").__enter__()
    assert exc.value.code == refused_with(interface, 1000)


def test_router_prefixes_and_include(client_for: ClientFor) -> None:
    router = Router(prefix="/chat")

    @router.websocket("/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(room)

    app = App()
    app.include_router(router, prefix="/v1")
    assert [r.path for r in app.websocket_routes] == ["/v1/chat/{room}"]
    assert app.routes == []  # not an HTTP route (nor in the OpenAPI document)
    with client_for(app).websocket_connect("/v1/chat/lobby") as ws:
        assert ws.receive_text() == "lobby"


def test_websocket_and_http_route_share_a_path(app: App, client_for: ClientFor) -> None:
    @app.get("/live")
    def page() -> str:
        return "page"

    @app.websocket("/live")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("socket")

    client = client_for(app)
    assert client.get("/live").text == "page"
    with client.websocket_connect("/live") as ws:
        assert ws.receive_text() == "socket"


# Registration errors ------------------------------------------------------------------------


def test_sync_handler_is_refused_at_registration(app: App) -> None:
    with pytest.raises(ConfigurationError, match=r"must be `async def`.*run_sync"):

        @app.websocket("/sync")
        def sync_handler(websocket: WebSocket) -> None:
            pass


def test_signature_mistakes_are_refused_at_registration(app: App) -> None:
    with pytest.raises(SignatureError, match="has no body"):

        @app.websocket("/body")
        async def body(websocket: WebSocket, item: dict[str, int]) -> None:
            pass

    with pytest.raises(SignatureError, match="callables receive a WebSocket"):

        @app.websocket("/request")
        async def request(websocket: WebSocket, request: Request) -> None:
            pass

    with pytest.raises(SignatureError, match="register websocket handlers"):

        @app.get("/http")
        async def http(websocket: WebSocket) -> None:
            pass


def test_conflicts_and_bad_sizes_are_refused(app: App) -> None:
    async def handler(websocket: WebSocket) -> None:
        pass

    app.add_websocket_route("/ws/{a}", handler)
    with pytest.raises(RouteConflictError, match=r"WEBSOCKET /ws/\{b\}"):
        app.add_websocket_route("/ws/{b}", handler)
    with pytest.raises(ConfigurationError, match="max_size"):
        app.add_websocket_route("/small", handler, max_size=0)
    with pytest.raises(ConfigurationError, match="websocket_max_size"):
        App(websocket_max_size=0)
    unlimited = App(websocket_max_size=None)
    unlimited.add_websocket_route("/any", handler)
    assert unlimited.websockets.compiled[0].max_size is None


# Dependencies ----------------------------------------------------------------------------


def test_depends_with_handshake_inputs_and_cleanup_after_the_handler(
    client_for: ClientFor, interface: str
) -> None:
    log: list[str] = []

    def authenticate(token: Annotated[str, Query()]) -> str:  # a `def` dependency: the pool
        if token != "secret":
            raise HTTPException(401, "bad token")
        return "ada"

    async def session(websocket: WebSocket, user: str = Depends(authenticate)):  # type: ignore[no-untyped-def]
        log.append(f"open {user} {websocket.path}")
        try:
            yield {"user": user}
        finally:  # the handler ended with WebSocketDisconnect: it is thrown in here
            log.append("closed")

    def audit() -> None:
        log.append("audit")

    router = Router(dependencies=[Depends(audit)])

    @router.websocket("/room/{name}")
    async def room(websocket: WebSocket, name: str, db: dict[str, str] = Depends(session)) -> None:
        await websocket.accept()
        await websocket.send_json({"room": name, **db})
        await websocket.receive_text()

    app = App()
    app.include_router(router)
    client = client_for(app)
    with client.websocket_connect("/room/lobby?token=secret") as ws:
        assert ws.receive_json() == {"room": "lobby", "user": "ada"}
        assert log == ["audit", "open ada /room/lobby"]
    assert log == ["audit", "open ada /room/lobby", "closed"]

    log.clear()
    with pytest.raises(WebSocketDenialResponse) as denied:
        client.websocket_connect("/room/lobby?token=wrong").__enter__()
    assert denied.value.status_code == 401  # the dependency's HTTPException denies
    if interface == "asgi":
        assert denied.value.json() == {"detail": "bad token"}
    with pytest.raises(WebSocketDisconnect) as exc_info:
        client.websocket_connect("/room/lobby").__enter__()  # token missing: one validation
    assert exc_info.value.code == refused_with(interface, 1008)
    assert log == ["audit"]


def test_dependency_overrides_apply_to_websocket_routes(client_for: ClientFor) -> None:
    def current_user() -> str:
        raise HTTPException(401)

    app = App()

    @app.websocket("/me")
    async def me(websocket: WebSocket, user: str = Depends(current_user)) -> None:
        await websocket.accept()
        await websocket.send_text(user)

    app.dependency_overrides[current_user] = lambda: "test-user"
    with client_for(app).websocket_connect("/me") as ws:
        assert ws.receive_text() == "test-user"


def test_a_dependency_asking_for_the_request_is_refused(app: App) -> None:
    def needs_request(request: Request) -> None:
        pass

    with pytest.raises(SignatureError, match="callables receive a WebSocket"):

        @app.websocket("/ws", dependencies=[Depends(needs_request)])
        async def handler(websocket: WebSocket) -> None:
            pass


def test_background_tasks_run_when_the_handler_is_done(app: App, client_for: ClientFor) -> None:
    done: list[str] = []

    @app.websocket("/bg")
    async def bg(websocket: WebSocket, tasks: BackgroundTasks) -> None:
        await websocket.accept()
        tasks.add_task(done.append, "task ran")
        await websocket.send_text(str(done))

    with client_for(app).websocket_connect("/bg") as ws:
        assert ws.receive_text() == "[]"
    assert done == ["task ran"]


def test_root_path_applies_to_websocket_routes(client_for: ClientFor) -> None:
    """App(root_path=...): a proxy may leave its prefix on the path, or take it off."""
    app = App(root_path="/api")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"path": websocket.path, "url": str(websocket.url)})

    client = client_for(app)
    for url in ("/api/ws", "/ws"):
        with client.websocket_connect(url) as session:
            assert session.receive_json() == {"path": "/ws", "url": "ws://testserver/api/ws"}
