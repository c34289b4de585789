"""`app.enable_dashboard()`: the status page and its data, who may see them (loopback
clients by default, guards), the guarded metrics endpoint, and the page rendered live in
headless Chromium with the numbers of a loaded server arriving."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ambi import App, ConfigurationError, HTTPException, Request
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


def token_guard(request: Request) -> bool:
    if request.headers.get("x-token") != "s3cret":
        raise HTTPException(403, "a token is needed")
    return True


def small_app(**options: Any) -> App:
    app = App()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    app.enable_dashboard(**options)
    return app


def test_local_only_by_default(client_for: ClientFor) -> None:
    client = client_for(small_app())  # the test client's peer is "testclient", not loopback
    assert client.get("/_ambi").status_code == 404
    assert client.get("/_ambi/data").status_code == 404


def test_guards_protect_the_page_and_its_data(client_for: ClientFor) -> None:
    app = small_app(path="/status", local_only=False, guards=[token_guard])
    client = client_for(app)
    assert client.get("/status").status_code == 403
    assert client.get("/status/data").status_code == 403
    assert client.get("/hello").status_code == 200
    page = client.get("/status", headers={"x-token": "s3cret"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "ambi status" in page.text
    assert "://" not in page.text  # self-contained: nothing fetched from elsewhere
    data = client.get("/status/data", headers={"x-token": "s3cret"}).json()
    assert data["at"] > 0
    assert {"method": "GET", "route": "/hello"}.items() <= _route(data, "/hello").items()
    assert _route(data, "/hello")["requests"] == 1
    assert {"path": "/hello", "methods": ["GET"], "kind": "async"}.items() <= next(
        r for r in data["routes"] if r["path"] == "/hello"
    ).items()
    assert data["metrics"]["event_loop"]["watchdog"] is True


def _route(data: dict[str, Any], path: str) -> dict[str, Any]:
    (found,) = [r for r in data["metrics"]["routes"] if r["route"] == path]
    return found


def test_metrics_endpoint_guards(client_for: ClientFor) -> None:
    app = App()
    app.enable_metrics(guards=[token_guard])
    client = client_for(app)
    assert client.get("/metrics").status_code == 403
    scraped = client.get("/metrics", headers={"x-token": "s3cret"})
    assert scraped.status_code == 200
    assert "ambi_http_requests_total" in scraped.text


def test_metrics_endpoint_after_the_dashboard(client_for: ClientFor) -> None:
    app = small_app(local_only=False, guards=[token_guard])
    app.enable_metrics("/metrics")  # the dashboard turned the metrics on without an endpoint
    client = client_for(app)
    client.get("/hello")
    assert 'route="/hello"' in client.get("/metrics").text


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="guards"):
        small_app(local_only=False)
    with pytest.raises(ConfigurationError, match="path"):
        small_app(path="status")
    with pytest.raises(ConfigurationError, match="path"):
        small_app(path="/status/")
    with pytest.raises(ConfigurationError, match="interval"):
        small_app(interval=0)
    app = small_app()
    with pytest.raises(ConfigurationError, match="already"):
        app.enable_dashboard("/other")
    with pytest.raises(ConfigurationError, match="already"):
        app.enable_metrics(path=None)
    with pytest.raises(ConfigurationError, match="give a path"):
        App().enable_metrics(path=None, guards=[token_guard])


# Live: a real server, real traffic, the page in Chromium ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, method: str = "GET") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def live_server() -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.metrics.dashboard_app", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}")
            try:
                if _get(port, "/json") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start in 60 s")
            time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _load(port: int, stop: threading.Event, counts: dict[str, int]) -> None:
    """Keep the server busy until `stop`: fast and slow routes, cache hits, tasks."""
    plan = [("/json", "GET"), ("/sync", "GET"), ("/items/1", "GET"), ("/work", "POST")]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    n = 0
    while not stop.is_set():
        path, method = plan[n % len(plan)] if n % 97 else ("/stall", "GET")
        connection.request(method, path)
        connection.getresponse().read()
        counts[path] = counts.get(path, 0) + 1
        n += 1
    connection.close()


def _dump_dom(url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        completed = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--virtual-time-budget=5000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            timeout=90,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-2000:]
    return completed.stdout.decode()


def _number(dom: str, element_id: str) -> float:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert found is not None, f"no #{element_id} in the page"
    return float(found.group(1).replace(",", ""))


def _row(dom: str, route: str) -> str:
    found = re.search(rf'<tr data-route="{re.escape(route)}">(.*?)</tr>', dom)
    assert found is not None, f"no row for {route}"
    return found.group(1)


@pytest.mark.server
@pytest.mark.timeout(180)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_the_page_shows_live_numbers_in_chromium(live_server: int) -> None:
    stop, counts = threading.Event(), {}
    loader = threading.Thread(target=_load, args=(live_server, stop, counts), daemon=True)
    loader.start()
    try:
        deadline = time.monotonic() + 30
        while counts.get("/stall", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # at least one stall of the loop happened before the page loads
        dom = _dump_dom(f"http://127.0.0.1:{live_server}/_ambi")
    finally:
        stop.set()
        loader.join(10)
    samples = re.search(r'<body data-samples="(\d+)"', dom)
    assert samples is not None
    assert int(samples.group(1)) >= 2  # polled again: the numbers move on their own
    assert _number(dom, "total-requests") > 0
    json_row = _row(dom, "GET /json")
    assert 'class="kind async"' in json_row
    requests = re.search(r'class="requests">([\d,]+)<', json_row)
    assert requests is not None
    assert int(requests.group(1).replace(",", "")) > 0
    rate = re.search(r'class="rate">([\d.,]+)<', json_row)  # a rate needs two samples
    assert rate is not None
    assert 'class="kind thread"' in _row(dom, "GET /sync")
    assert "GET /stall" in dom.split('id="incidents"', 1)[1]  # the stall, with its stack
    assert "time.sleep(0.12)" in dom
    assert _number(dom, "cache-hits") > 0
    assert 'id="tasks-card"' in dom
    assert 'class="card hidden" id="tasks-card"' not in dom  # tasks are on: the card shows
