"""examples/chat.py: rooms, broadcast to every member, the page, over ASGI and RSGI."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.sync.client import connect

from ambi import App, WebSocketDisconnect
from ambi.testing import TestClient

from ..servers.conftest import free_port, start_process
from ._load import load_example

chat = load_example("chat")
ClientFor = Callable[[App], TestClient]


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    chat.rooms.members.clear()
    return client_for(chat.app)


def test_everyone_in_the_room_hears_everything(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        assert ada.receive_json() == {"type": "join", "name": "ada", "members": ["ada"]}
        with (
            client.websocket_connect("/ws/lobby?name=bob") as bob,
            client.websocket_connect("/ws/attic?name=eve") as eve,
        ):
            joined = {"type": "join", "name": "bob", "members": ["ada", "bob"]}
            assert ada.receive_json() == joined
            assert bob.receive_json() == joined
            assert eve.receive_json() == {"type": "join", "name": "eve", "members": ["eve"]}
            assert client.get("/rooms").json() == {"attic": ["eve"], "lobby": ["ada", "bob"]}

            bob.send_json({"text": "hi all"})
            said = {"type": "message", "name": "bob", "text": "hi all"}
            assert ada.receive_json() == said
            assert bob.receive_json() == said
            eve.send_json({"text": "anyone?"})
            assert eve.receive_json() == {"type": "message", "name": "eve", "text": "anyone?"}
        # bob and eve left: ada hears bob go, nothing of eve's room
        assert ada.receive_json() == {"type": "leave", "name": "bob", "members": ["ada"]}
        ada.send_json({"text": "alone"})
        assert ada.receive_json() == {"type": "message", "name": "ada", "text": "alone"}
    assert client.get("/rooms").json() == {}


def test_a_message_not_understood_is_answered_to_its_sender(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json()
        ada.send_json({"text": ""})
        error = ada.receive_json()
        assert error["type"] == "error"
        assert error["detail"][0]["loc"] == ["text"]
        ada.send_json({"text": "still here"})
        assert ada.receive_json()["text"] == "still here"


@pytest.mark.parametrize("url", ["/ws/lobby", "/ws/lobby?name=", "/ws/Not%20Valid?name=ada"])
def test_a_bad_room_or_name_is_refused(client: TestClient, url: str) -> None:
    with pytest.raises(WebSocketDisconnect):
        client.websocket_connect(url).__enter__()
    assert client.get("/rooms").json() == {}


def test_the_page_talks_to_the_websocket(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["content-type"].startswith("text/html")
    assert "new WebSocket(`${scheme}://${location.host}/ws/" in response.text


@pytest.mark.server
@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_chat_served_by_granian(tmp_path: Path, interface: str) -> None:
    """`ambi run examples/chat.py`, two real clients in one room."""
    port = free_port()
    argv = [sys.executable, "-m", "ambi.cli", "run", "examples/chat.py", "--port", str(port)]
    server = start_process([*argv, "--interface", interface], port, tmp_path, name="chat")
    try:
        base = f"ws://127.0.0.1:{port}/ws/lobby"
        with connect(f"{base}?name=ada", open_timeout=10) as ada:
            assert json.loads(ada.recv(10))["members"] == ["ada"]
            with connect(f"{base}?name=bob", open_timeout=10) as bob:
                assert json.loads(ada.recv(10))["members"] == ["ada", "bob"]
                bob.recv(10)
                bob.send(json.dumps({"text": "hi"}))
                said = {"type": "message", "name": "bob", "text": "hi"}
                assert json.loads(ada.recv(10)) == said
                assert json.loads(bob.recv(10)) == said
            assert json.loads(ada.recv(10)) == {"type": "leave", "name": "bob", "members": ["ada"]}
    finally:
        assert server.stop() == 0, server.describe()
