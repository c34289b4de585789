"""The WebSocket object, driven through `TestClient.websocket_connect` over ASGI and RSGI.

Granian's RSGI interface cannot put a close code on the wire after the accept (clients see
1005) nor a subprotocol in the handshake; `closed_with` holds what each interface shows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, BaseModel, WebSocket, WebSocketDisconnect, WebSocketState
from ambi.http._websocket import MAX_REASON_BYTES, _clip, _too_big
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def closed_with(interface: str, code: int) -> int:
    """The close code a client sees after the accept: RSGI's close frame has none."""
    return code if interface == "asgi" else 1005


def test_text_bytes_and_json_round_trip(app: App, client_for: ClientFor) -> None:
    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.send_bytes(await websocket.receive_bytes())
        await websocket.send_json(await websocket.receive_json())
        await websocket.send_json(await websocket.receive_json(mode="binary"), mode="binary")

    with client_for(app).websocket_connect("/echo") as ws:
        ws.send_text("héllo")
        assert ws.receive_text() == "héllo"
        ws.send_bytes(b"\x00\xff")
        assert ws.receive_bytes() == b"\x00\xff"
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"a": [1, 2]}
        ws.send_json({"b": None}, mode="binary")
        assert ws.receive_json(mode="binary") == {"b": None}


def test_send_json_renders_models(app: App, client_for: ClientFor) -> None:
    class Item(BaseModel):
        name: str
        price: float

    @app.websocket("/model")
    async def model(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(Item(name="pen", price=1.5))
        await websocket.send_json([Item(name="ink", price=2)])

    with client_for(app).websocket_connect("/model") as ws:
        assert ws.receive_json() == {"name": "pen", "price": 1.5}
        assert ws.receive_json() == [{"name": "ink", "price": 2.0}]


def test_iterators_end_when_the_client_leaves(app: App, client_for: ClientFor) -> None:
    seen: list[Any] = []

    @app.websocket("/text")
    async def text(websocket: WebSocket) -> None:
        await websocket.accept()
        seen.extend([message async for message in websocket.iter_text()])
        seen.append("end-text")

    @app.websocket("/bytes")
    async def octets(websocket: WebSocket) -> None:
        await websocket.accept()
        seen.extend([message async for message in websocket.iter_bytes()])
        seen.append("end-bytes")

    @app.websocket("/json")
    async def json(websocket: WebSocket) -> None:
        await websocket.accept()
        seen.extend([message async for message in websocket.iter_json()])
        seen.append("end-json")

    client = client_for(app)
    with client.websocket_connect("/text") as ws:
        ws.send_text("a")
        ws.send_text("b")
    with client.websocket_connect("/bytes") as ws:
        ws.send_bytes(b"c")
    with client.websocket_connect("/json") as ws:
        ws.send_json({"d": 1})
    assert seen == ["a", "b", "end-text", b"c", "end-bytes", {"d": 1}, "end-json"]


def test_disconnect_reaches_the_handler_with_its_code(
    app: App, client_for: ClientFor, interface: str
) -> None:
    caught: list[WebSocketDisconnect] = []
    states: list[tuple[WebSocketState, WebSocketState]] = []

    @app.websocket("/wait")
    async def wait(websocket: WebSocket) -> None:
        await websocket.accept()
        states.append((websocket.client_state, websocket.application_state))
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            caught.append(exc)
            states.append((websocket.client_state, websocket.application_state))
            raise

    with client_for(app).websocket_connect("/wait") as ws:
        ws.close(4000, "bye")
    assert [e.code for e in caught] == [4000 if interface == "asgi" else 1005]
    connected, gone = WebSocketState.CONNECTED, WebSocketState.DISCONNECTED
    assert states == [(connected, connected), (gone, gone)]


def test_raw_receive_and_send_messages(app: App, client_for: ClientFor) -> None:
    @app.websocket("/raw")
    async def raw(websocket: WebSocket) -> None:
        assert await websocket.receive() == {"type": "websocket.connect"}
        await websocket.send({"type": "websocket.accept"})
        message = await websocket.receive()
        await websocket.send({"type": "websocket.send", "text": message["text"].upper()})
        message = await websocket.receive()
        await websocket.send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
        message = await websocket.receive()
        assert message["type"] == "websocket.disconnect"

    with client_for(app).websocket_connect("/raw") as ws:
        ws.send_text("abc")
        assert ws.receive_text() == "ABC"
        ws.send_bytes(b"xy")
        assert ws.receive_bytes() == b"yx"


def test_close_with_code_and_reason(app: App, client_for: ClientFor, interface: str) -> None:
    @app.websocket("/bye")
    async def bye(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send({"type": "websocket.close", "code": 4001, "reason": "done"})
        await websocket.close()  # a second close does nothing

    with client_for(app).websocket_connect("/bye") as ws:
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == closed_with(interface, 4001)
    assert message["reason"] == ("done" if interface == "asgi" else "")


@pytest.mark.parametrize(
    "case",
    [
        ("/text", ("bytes", b"x"), 1003),
        ("/bytes", ("text", "x"), 1003),
        ("/json", ("text", "{not json"), 1007),
        ("/json", ("bytes", b"{}"), 1003),
    ],
)
def test_unexpected_data_closes_with_its_code(
    app: App, client_for: ClientFor, interface: str, case: tuple[str, tuple[str, Any], int]
) -> None:
    path, send, code = case
    caught: list[int] = []

    async def run(websocket: WebSocket, receive: Callable[[], Any]) -> None:
        await websocket.accept()
        try:
            await receive()
        except WebSocketDisconnect as exc:
            caught.append(exc.code)

    @app.websocket("/text")
    async def text(websocket: WebSocket) -> None:
        await run(websocket, websocket.receive_text)

    @app.websocket("/bytes")
    async def octets(websocket: WebSocket) -> None:
        await run(websocket, websocket.receive_bytes)

    @app.websocket("/json")
    async def json(websocket: WebSocket) -> None:
        await run(websocket, websocket.receive_json)

    with client_for(app).websocket_connect(path) as ws:
        ws.send({"type": "websocket.receive", send[0]: send[1]})
        with pytest.raises(WebSocketDisconnect) as exc_info:
            ws.receive_text()
    assert caught == [code]
    assert exc_info.value.code == closed_with(interface, code)


def test_message_over_the_size_limit_closes_with_1009(
    client_for: ClientFor, interface: str
) -> None:
    app = App(websocket_max_size=8)
    sizes: list[int] = []

    @app.websocket("/small")
    async def small(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            sizes.extend([len(text) async for text in websocket.iter_text()])
        finally:
            sizes.append(-1)

    @app.websocket("/large", max_size=1000)
    async def large(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(str(len(await websocket.receive_text())))

    client = client_for(app)
    with client.websocket_connect("/small") as ws:
        ws.send_text("12345678")  # 8 bytes: fits
        ws.send_text("ééééé")  # 5 characters, 10 bytes: does not
        with pytest.raises(WebSocketDisconnect) as exc_info:
            ws.receive_text()
    assert exc_info.value.code == closed_with(interface, 1009)
    assert sizes == [8, -1]
    with client.websocket_connect("/large") as ws:
        ws.send_text("x" * 1000)
        assert ws.receive_text() == "1000"


def test_handshake_details(app: App, client_for: ClientFor) -> None:
    @app.websocket("/info/{room}")
    async def info(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "room": room,
                "path_params": websocket.path_params,
                "query": dict(websocket.query_params),
                "header": websocket.headers.get("x-token"),
                "cookies": websocket.cookies,
                "url": str(websocket.url),
                "scheme": websocket.url.scheme,
                "client": list(websocket.client or ()),
                "subprotocols": websocket.subprotocols,
                "state": websocket.state.__dict__,
            }
        )

    client = client_for(app, cookies={"session": "abc"})
    with client.websocket_connect(
        "/info/lobby?a=1", headers={"x-token": "t"}, subprotocols=["chat", "v2"]
    ) as ws:
        data = ws.receive_json()
    assert data == {
        "room": "lobby",
        "path_params": {"room": "lobby"},
        "query": {"a": "1"},
        "header": "t",
        "cookies": {"session": "abc"},
        "url": "ws://testserver/info/lobby?a=1",
        "scheme": "ws",
        "client": ["testclient", 50000],
        "subprotocols": ["chat", "v2"],
        "state": {},
    }


def test_subprotocol_and_headers_in_the_accept(
    app: App, client_for: ClientFor, interface: str
) -> None:
    @app.websocket("/proto")
    async def proto(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="v2", headers=[(b"x-served-by", b"ambi")])
        await websocket.send_text("hi")

    client = client_for(app)
    if interface == "rsgi":
        # Granian's RSGI accept() takes neither: refused (and logged), never half-done.
        with pytest.raises(WebSocketDisconnect):
            client.websocket_connect("/proto", subprotocols=["v2"]).__enter__()
        return
    with client.websocket_connect("/proto", subprotocols=["v1", "v2"]) as ws:
        assert ws.accepted_subprotocol == "v2"
        assert ws.extra_headers == [(b"x-served-by", b"ambi")]
        assert ws.receive_text() == "hi"


def test_misuse_raises_starlettes_runtime_errors(app: App, client_for: ClientFor) -> None:
    errors: list[str] = []

    @app.websocket("/misuse")
    async def misuse(websocket: WebSocket) -> None:
        for call in (websocket.receive_text, lambda: websocket.send_text("x")):
            try:
                await call()
            except RuntimeError as exc:
                errors.append(str(exc))
        try:
            await websocket.receive_json(mode="xml")  # type: ignore[arg-type]
        except RuntimeError as exc:
            errors.append(str(exc))
        await websocket.accept()
        try:
            await websocket.accept()
        except RuntimeError as exc:
            errors.append(str(exc))
        await websocket.close()
        try:
            await websocket.send_text("late")
        except RuntimeError as exc:
            errors.append(str(exc))

    with pytest.raises(WebSocketDisconnect), client_for(app).websocket_connect("/misuse") as ws:
        ws.receive_text()
    assert errors == [
        'WebSocket is not connected. Need to call "accept" first.',
        'WebSocket is not connected. Need to call "accept" first.',
        'The "mode" argument should be "text" or "binary".',
        'Cannot call "accept" more than once, or after "close".',
        'Cannot call "send" once a close message has been sent.',
    ]


def test_sending_to_a_client_that_left_raises_disconnect(app: App, client_for: ClientFor) -> None:
    outcome: list[Any] = []

    @app.websocket("/push")
    async def push(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.receive_text()
        try:
            await websocket.send_text("anyone?")
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    with client_for(app).websocket_connect("/push") as ws:
        ws.close()
    assert outcome == [1006]


def test_close_reason_is_clipped_to_a_control_frame() -> None:
    assert _clip(None) == ""
    assert _clip("short") == "short"
    clipped = _clip("é" * 100)  # 200 bytes
    assert len(clipped.encode()) <= MAX_REASON_BYTES
    assert clipped == "é" * (MAX_REASON_BYTES // 2)


@given(st.text())
def test_clip_keeps_a_utf8_prefix_that_fits_a_close_frame(reason: str) -> None:
    clipped = _clip(reason)
    assert len(clipped.encode("utf-8")) <= MAX_REASON_BYTES
    assert reason.startswith(clipped)
    if len(reason.encode("utf-8")) <= MAX_REASON_BYTES:
        assert clipped == reason


@given(st.one_of(st.text(), st.binary()), st.integers(min_value=1, max_value=200))
def test_too_big_counts_utf8_bytes(data: str | bytes, limit: int) -> None:
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    assert _too_big(data, limit) == (size > limit)


def test_repr() -> None:
    websocket = WebSocket(App(), "/ws", "", [], transport=None)  # type: ignore[arg-type]
    assert repr(websocket) == "<WebSocket /ws CONNECTING>"
