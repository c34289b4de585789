"""examples/site.py: template pages linking to static files, in process over ASGI and RSGI,
and served by `python examples/site.py` on a real server."""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ambi import App
from ambi.testing import TestClient
from tests.servers.conftest import free_port, start_process

from ._load import EXAMPLES, load_example

site = load_example("site")
ClientFor = Callable[[App], TestClient]
PUBLIC = EXAMPLES / "site_files" / "public"


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    return client_for(site.app)


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', html)


def test_home_page_links_resolve(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert '<li><a href="/birds/2">Wren</a></li>' in home.text
    links = _links(home.text)
    assert "/static/site.css" in links
    assert "/static/js/site.js" in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_bird_pages(client: TestClient) -> None:
    page = client.get("/birds/3")
    assert "<h1>Blackbird</h1>" in page.text
    assert "/static/img/feather.svg" in _links(page.text)
    missing = client.get("/birds/9")
    assert missing.status_code == 404
    assert "<p>no bird 9</p>" in missing.text  # the site's own 404 page


def test_static_files(client: TestClient) -> None:
    css = client.get("/static/site.css")
    assert css.content == (PUBLIC / "site.css").read_bytes()
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["cache-control"] == "public, max-age=3600"
    again = client.get("/static/site.css", headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/img/feather.svg").headers["content-type"] == "image/svg+xml"
    missing = client.get("/static/nope.css")
    assert missing.status_code == 404
    assert "<h1>Not found</h1>" in missing.text


@pytest.mark.server
def test_served_as_a_script(tmp_path: Path) -> None:
    """`python examples/site.py` serves it (Granian, RSGI); the port is patched in."""
    port = free_port()
    script = (EXAMPLES / "site.py").read_text().replace("port=8000", f"port={port}")
    run = tmp_path / "site_example.py"  # any name but site.py, which the stdlib takes
    run.write_text(script.replace("Path(__file__).resolve().parent", f"Path({str(EXAMPLES)!r})"))
    server = start_process([sys.executable, str(run)], port, tmp_path, name="site")
    try:
        with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
            home = http.get("/")
            assert home.status_code == 200
            for link in _links(home.text):
                assert http.get(link).status_code == 200, link
            part = http.get("/static/site.css", headers={"range": "bytes=0-3"})
            assert (part.status_code, part.content) == (206, b"body")
        assert server.stop(signal.SIGINT) == 0, server.describe()
    finally:
        server.kill()
