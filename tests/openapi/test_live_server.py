"""The example shop app on a real server (Granian, RSGI, as `app.listen()` runs it) on a
free 127.0.0.1 port:

- `/docs` (Swagger UI) and `/redoc` render in headless Chromium from the assets shipped in
  the package. Chromium is told to resolve no host but 127.0.0.1, so the pages can only
  render if nothing is fetched from a CDN. Skipped only when `/usr/bin/chromium` is absent
  (Debian: `apt-get install -y chromium`).
- A bad body (malformed JSON, not UTF-8, wrong content type) gets a 4xx and the next
  request on the same keep-alive connection is served.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import sys
from tests.examples._load import load_example
load_example("shop").app.listen(host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

ORDER = {
    "customer_id": 7,
    "email": "ada@example.com",
    "items": [{"sku": "A-1", "qty": 2, "price": 9.5}],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/openapi.json")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start in 30 s")


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    """The port of a live server for examples/shop.py, stopped after the module's tests."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_serving(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _render(url: str) -> str:
    """The DOM of `url` after its scripts ran, in headless Chromium with no outside hosts."""
    completed = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-2000:]
    return completed.stdout.decode()


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@needs_chromium
def test_swagger_ui_renders_offline(server: int) -> None:
    dom = _render(f"http://127.0.0.1:{server}/docs")
    assert 'class="swagger-ui' in dom
    # One rendered operation block per documented path, read from /openapi.json.
    for path in ("/items", "/items/{item_id}", "/orders", "/login", "/legacy-search"):
        assert f'data-path="{path}"' in dom, path
    assert "ambi shop" in dom


@needs_chromium
def test_redoc_renders_offline(server: int) -> None:
    dom = _render(f"http://127.0.0.1:{server}/redoc")
    assert "Place an order. Any extra key in the returned dict is filtered out" in dom
    assert "operation/create_order_orders_post" in dom


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"customer_id": 7,', "application/json", 422),
        (b"\xff\xfe{}", "application/json", 400),
        (b"customer_id=7", "application/x-www-form-urlencoded", 415),
        (b"[1, 2]", "application/json", 422),
    ],
    ids=["malformed-json", "not-utf8", "wrong-content-type", "wrong-shape"],
)
def test_a_bad_body_leaves_the_connection_usable(
    server: int, body: bytes, content_type: str, status: int
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        connection.request("POST", "/orders", body=body, headers={"content-type": content_type})
        bad = connection.getresponse()
        detail = orjson.loads(bad.read())["detail"]
        assert bad.status == status
        assert detail
        connection.request(
            "POST",
            "/orders",
            body=orjson.dumps(ORDER),
            headers={"content-type": "application/json"},
        )
        good = connection.getresponse()
        assert good.status == 201
        assert orjson.loads(good.read())["total"] == 19.0
    finally:
        connection.close()


def test_assets_are_served_with_long_cache_headers(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        connection.request("GET", "/docs/static/swagger-ui-bundle.js?v=5.35.0")
        response = connection.getresponse()
        payload = response.read()
        assert response.status == 200
        assert response.getheader("cache-control") == "public, max-age=31536000, immutable"
        assert response.getheader("content-type", "").startswith("text/javascript")
        assert b"SwaggerUIBundle" in payload
    finally:
        connection.close()
