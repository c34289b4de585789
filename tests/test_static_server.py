"""Static files and mounts on real servers (Granian RSGI, Granian ASGI, uvicorn), on
127.0.0.1: path traversal tried with raw requests (httpx would normalise `..` away before
sending), Granian's own file sending for whole files and ranges, and a Starlette app mounted
over the ASGI-over-RSGI bridge."""

from __future__ import annotations

import contextlib
import gzip
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers.conftest import SERVER_PATHS, ServerProcess, free_port, start_process

pytestmark = pytest.mark.server

SERVE = """
import sys
from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route
from ambi import App

port, root, server, interface = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

async def hello(request):
    return PlainTextResponse(f"{request.url.path} {request.scope['root_path']}")

async def echo(request):
    return PlainTextResponse(str(len(await request.body())))

async def stream(request):
    async def chunks():
        for i in range(5):
            yield f"part {i}\\n"
    return StreamingResponse(chunks(), media_type="text/plain")

async def download(request):
    return FileResponse(root + "/public/big.bin")

starlette = Starlette(routes=[
    Route("/hello", hello), Route("/echo", echo, methods=["POST"]),
    Route("/stream", stream), Route("/download", download),
])

app = App()
app.mount_static("/static", root + "/public", html=True)
app.mount("/starlette", starlette)

@app.get("/")
def home():
    return {"ok": True}

app.listen(port=port, server=server, interface=interface, log_level="warning")
"""

BIG = bytes(range(256)) * 800  # 200 KiB


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    public = root / "public"
    (public / "css").mkdir(parents=True)
    (public / "hello.txt").write_text("hello\n")
    (public / "big.bin").write_bytes(BIG)
    (public / "css" / "site.css").write_text("body{}\n")
    (public / "css" / "site.css.gz").write_bytes(gzip.compress(b"body{}\n"))
    (public / "out.txt").symlink_to(root / "secret.txt")
    (root / "secret.txt").write_text("top secret\n")
    (root / "public2").mkdir()
    (root / "public2" / "secret.txt").write_text("top secret\n")
    return root


@pytest.fixture(scope="module")
def servers(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The site served on each server path, started on first use, stopped at the end."""
    started: dict[str, ServerProcess] = {}
    out_dir = tmp_path_factory.mktemp("static-servers")

    def get(server_path: str) -> ServerProcess:
        if server_path not in started:
            server, interface = SERVER_PATHS[server_path]
            port = free_port()
            argv = [sys.executable, "-c", SERVE, str(port), str(site), server, interface]
            started[server_path] = start_process(argv, port, out_dir, name=server_path)
        return started[server_path]

    yield {"get": get}
    for server in started.values():
        with contextlib.suppress(AssertionError):
            server.stop(signal.SIGINT, timeout=5)
        server.kill()


@pytest.fixture(params=list(SERVER_PATHS))
def live(request: pytest.FixtureRequest, servers: dict[str, Any]) -> ServerProcess:
    server: ServerProcess = servers["get"](request.param)
    return server


def raw_get(port: int, target: str, headers: str = "") -> tuple[int, bytes]:
    """Send `GET target` exactly as written; the status and the whole response."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response.split(b" ", 2)[1]), response


@pytest.mark.parametrize(
    "target",
    [
        "/static/../secret.txt",
        "/static/../../../../../../etc/passwd",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/css/../../secret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/./../secret.txt",
        "/static/..%5csecret.txt",
        "/static/..%5c..%5csecret.txt",
        "/static/hello.txt%00",
        "/static/%00/../secret.txt",
        "/static/%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots
        "/static/out.txt",  # a symlink leading out of the directory
        "/static/..%2fpublic2/secret.txt",
    ],
)
def test_traversal_is_refused(live: ServerProcess, target: str) -> None:
    status, response = raw_get(live.port, target)
    assert status == 404, response[:300]
    assert b"secret" not in response
    assert b"root:" not in response


@pytest.mark.parametrize("target", ["/static/..\\secret.txt", "/static/..\\..\\etc\\passwd"])
def test_raw_backslashes_are_refused(live: ServerProcess, target: str) -> None:
    status, response = raw_get(live.port, target)
    assert status in (400, 404), response[:300]  # some servers refuse the request line
    assert b"secret" not in response


def test_files_ranges_and_validators(live: ServerProcess) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        whole = client.get("/static/big.bin")
        assert whole.content == BIG
        assert whole.headers["content-length"] == str(len(BIG))
        part = client.get("/static/big.bin", headers={"range": "bytes=70000-140000"})
        assert part.status_code == 206
        assert part.content == BIG[70000:140001]
        assert part.headers["content-range"] == f"bytes 70000-140000/{len(BIG)}"
        several = client.get("/static/big.bin", headers={"range": "bytes=0-1,-2"})
        assert several.status_code == 206
        assert several.headers["content-type"].startswith("multipart/byteranges")
        assert len(several.content) == int(several.headers["content-length"])
        assert client.get("/static/big.bin", headers={"range": "bytes=999999-"}).status_code == 416
        head = client.head("/static/big.bin")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(BIG))
        etag = whole.headers["etag"]
        assert client.get("/static/big.bin", headers={"if-none-match": etag}).status_code == 304
        css = client.get("/static/css/site.css", headers={"accept-encoding": "gzip"})
        assert css.headers["content-encoding"] == "gzip"
        assert css.content == b"body{}\n"  # httpx decodes it
        after = client.get("/")  # the keep-alive connection is still in step
        assert after.json() == {"ok": True}


def test_mounted_starlette_app(live: ServerProcess) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10.0) as client:
        assert client.get("/starlette/hello").text == "/starlette/hello /starlette"
        body = b"x" * 300_000
        assert client.post("/starlette/echo", content=body).text == str(len(body))
        chunked = client.post("/starlette/echo", content=iter([b"ab", b"cd"]))
        assert chunked.text == "4"
        with client.stream("GET", "/starlette/stream") as response:
            text = b"".join(response.iter_bytes())
        assert text == b"".join(f"part {i}\n".encode() for i in range(5))
        download = client.get("/starlette/download")  # http.response.pathsend
        assert download.content == BIG
        assert client.get("/starlette/nope").status_code == 404
        assert client.get("/").json() == {"ok": True}
    assert "Traceback" not in live.stderr, live.stderr[-3000:]


def test_the_process_stops_cleanly(site: Path, tmp_path: Path) -> None:
    """Mounted lifespans do not hold up the shutdown."""
    port = free_port()
    argv = [sys.executable, "-c", SERVE, str(port), str(site), "granian", "rsgi"]
    server = start_process(argv, port, tmp_path, name="stop")
    try:
        assert server.stop(signal.SIGINT) == 0, server.describe()
    finally:
        server.kill()
