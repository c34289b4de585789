"""A shutdown that cannot finish, on real servers: handlers still running when
`shutdown_timeout` is up are cut (their clients get 503, a warning names the routes), the
shutdown hooks still run, and the exit status says the shutdown was not clean
(`ambi.servers._shutdown`)."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from ambi.servers._shutdown import UNCLEAN_EXIT

from .conftest import StartApp

pytestmark = pytest.mark.server


def test_handlers_past_the_shutdown_timeout_get_503_and_the_hooks_run(
    start_app: StartApp, server_path: str
) -> None:
    server = start_app("stuck", server_path)
    answers: dict[str, object] = {}

    def ask(path: str) -> None:
        try:
            response = httpx.get(f"{server.base_url}{path}", timeout=15)
            answers[path] = (response.status_code, response.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            answers[path] = exc

    paths = ["/async/stuck", "/sync/stuck"]
    clients = [threading.Thread(target=ask, args=(path,)) for path in paths]
    for client in clients:
        client.start()
    time.sleep(0.5)  # both are in their handlers
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    for client in clients:
        client.join(15)
    code = server.wait()
    took = time.monotonic() - started
    for path in paths:
        assert answers[path] == (503, "1"), f"{path}: {answers[path]}\n{server.describe()}"
    assert server.marker.exists(), "the shutdown hook did not run\n" + server.describe()
    assert code == UNCLEAN_EXIT, server.describe()
    assert took < 6, f"stopped after {took:.1f} s\n{server.describe()}"
    output = server.stderr + server.stdout
    assert "GET /async/stuck" in output
    assert "GET /sync/stuck" in output
    assert "the shutdown was not clean" in output
    assert "Traceback" not in output
