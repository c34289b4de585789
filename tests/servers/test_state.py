"""Startup hooks and `listen()` on a real server: what a hook sets is what handlers see."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import ServerProcess

pytestmark = pytest.mark.server


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_startup_hook_state_reaches_handlers(base_url: str, kind: str) -> None:
    """`app.db = ...` (Cello style) and `app.state.x = ...`, set in async and sync hooks."""
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        response = client.get(f"/{kind}/state")
    assert response.status_code == 200
    assert response.json() == {"db": "primary", "cache": {"warm": True}, "sync_hook_ran": True}


def test_listen_announces_where_it_serves(live: ServerProcess, server_path: str) -> None:
    """The app is defined in a `__main__` script and served by `app.listen()`."""
    server, interface = server_path.split("-")
    line = re.search(r"^ambi: serving on (\S+) \((\w+), (\w+), 1 worker\)", live.stdout, re.M)
    assert line is not None, live.describe()
    assert line.groups() == (live.base_url, server, interface.upper())
    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        assert client.get("/sync/ping").json()["pong"] == "sync"
