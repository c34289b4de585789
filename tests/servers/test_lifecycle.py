"""Starting and stopping real servers: graceful shutdown on SIGINT / SIGTERM, and a failing
startup hook that stops the server before it serves anything."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from .conftest import StartApp, answers_until_exit

pytestmark = pytest.mark.server


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_shuts_down_gracefully(
    start_app: StartApp, server_path: str, sig: signal.Signals
) -> None:
    """Stop accepting, finish the request in flight, run the shutdown hooks, exit 0."""
    server = start_app("basic", server_path, ready_path="/async/ping")
    in_flight: dict[str, object] = {}

    def slow_request() -> None:
        try:
            with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
                response = client.get("/sync/sleep?d=1.0")
            in_flight["response"] = (response.status_code, response.json())
        except httpx.HTTPError as exc:
            in_flight["response"] = exc

    thread = threading.Thread(target=slow_request)
    thread.start()
    try:
        time.sleep(0.3)  # the request is in its handler now
        assert not server.marker.exists()
        server.proc.send_signal(sig)
        time.sleep(0.3)
        with pytest.raises(httpx.TransportError), httpx.Client(timeout=2.0) as client:
            client.get(f"{server.base_url}/async/ping")
    finally:
        thread.join(10)
    code = server.wait()
    assert in_flight["response"] == (200, {"kind": "sync"}), server.describe()
    assert code == 0, server.describe()
    assert server.marker.exists(), "the shutdown hooks did not run\n" + server.describe()
    assert "Traceback" not in server.stderr


def test_failing_startup_hook_stops_the_server(start_app: StartApp, server_path: str) -> None:
    """Non-zero exit, the error in stderr, and not one request served."""
    server = start_app("bad_startup", server_path, ready=False)
    answered = answers_until_exit(server)
    code = server.wait(timeout=1)
    assert code != 0, server.describe()
    assert answered == [], f"served {answered} although startup failed\n{server.describe()}"
    assert "database unreachable at db.invalid:5432" in server.stderr
    assert "Traceback" in server.stderr
    assert "in connect" in server.stderr, "the traceback should point at the failing hook"
