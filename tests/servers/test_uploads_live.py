"""Uploads on real servers (Granian RSGI and ASGI, uvicorn): a 200 MB upload arrives
byte-identical while the server's memory grows by less than 50 MB; a body over a limit is a
413 before the rest is sent; a client leaving mid-upload leaves no temporary file; slow
uploaders do not slow an `async def` route down."""

from __future__ import annotations

import hashlib
import os
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ServerProcess, StartApp

pytestmark = pytest.mark.server

BOUNDARY = "ambi-live-boundary"
MiB = 1024 * 1024


@pytest.fixture
def uploads(
    start_app: StartApp, server_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ServerProcess:
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setenv("AMBI_TEST_UPLOAD_DIR", str(folder))
    return start_app("uploads", server_path)


def _head(path: str, port: int, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _part_start(name: str = "file", filename: str = "f.bin") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()


_END = f"\r\n--{BOUNDARY}--\r\n".encode()


def _random_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(size // MiB):
            block = os.urandom(MiB)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _memory(base_url: str) -> dict[str, int]:
    result: dict[str, int] = httpx.get(f"{base_url}/memory", timeout=10).json()
    return result


def test_a_200_mb_upload_is_byte_identical_in_little_memory(
    uploads: ServerProcess, tmp_path: Path, server_path: str
) -> None:
    source = tmp_path / "big.bin"
    expected = _random_file(source, 200 * MiB)
    with httpx.Client(base_url=uploads.base_url, timeout=120) as client:
        warm = client.post("/upload", files={"file": ("w.bin", os.urandom(3 * MiB))})
        assert warm.status_code == 200, warm.text
        before = _memory(uploads.base_url)
        with source.open("rb") as handle:  # httpx streams a file object
            response = client.post("/upload", files={"file": ("big.bin", handle)})
    after = _memory(uploads.base_url)
    assert response.status_code == 200, response.text
    assert response.json() == {"size": 200 * MiB, "sha256": expected, "in_memory": False}
    growth_mib = (after["peak_kib"] - before["rss_kib"]) / 1024
    print(f"\n{server_path}: RSS {before['rss_kib'] / 1024:.1f} MiB, peak +{growth_mib:.1f} MiB")
    assert growth_mib < 50


def _read_response(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_over_the_limit_is_413_before_the_rest_is_sent(uploads: ServerProcess) -> None:
    """50 MB announced for a route taking 1 MB: the answer comes while the client is still
    sending, the server reads no more of it and closes the connection."""
    length = 50 * MiB
    sent = 0
    with socket.create_connection(("127.0.0.1", uploads.port), timeout=10) as sock:
        sock.sendall(_head("/limited", uploads.port, length) + _part_start())
        sock.settimeout(0.05)
        answer = b""
        block = b"x" * 65536
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            try:
                sent += sock.send(block)
            except (TimeoutError, BlockingIOError):
                pass
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                answer += sock.recv(65536)
            except TimeoutError:
                continue
        sock.settimeout(5)
        answer += _read_response(sock) if b"\r\n\r\n" not in answer else b""
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * MiB  # nowhere near the 50 MB announced
    assert b"connection: close" in answer.lower()


def test_announced_length_over_the_limit_is_413_at_once(uploads: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", uploads.port), timeout=10) as sock:
        sock.sendall(_head("/limited", uploads.port, 5 * MiB))  # no body sent at all
        answer = _read_response(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def _open_uploads(base_url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{base_url}/open-uploads", timeout=10).json()
    return result


def test_a_client_leaving_mid_upload_leaves_no_temporary_file(uploads: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", uploads.port), timeout=10) as sock:
        sock.sendall(_head("/upload", uploads.port, 20 * MiB) + _part_start())
        block = os.urandom(MiB)
        for _ in range(6):  # past the 1 MiB spool threshold: a temporary file exists
            sock.sendall(block)
        deadline = time.monotonic() + 5
        while not _open_uploads(uploads.base_url)["open"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _open_uploads(uploads.base_url)["open"], "the upload never reached the disk"
    # the client is gone, 14 MB short
    deadline = time.monotonic() + 5
    state = _open_uploads(uploads.base_url)
    while state["open"] and time.monotonic() < deadline:
        time.sleep(0.05)
        state = _open_uploads(uploads.base_url)
    assert state == {"open": [], "entries": []}
    assert httpx.get(f"{uploads.base_url}/ping", timeout=5).text == "pong"


def _trickle(socks: list[socket.socket], payload: Iterator[bytes]) -> None:
    piece = next(payload)
    for sock in socks:
        sock.sendall(piece)


def test_slow_uploaders_do_not_slow_an_async_route(uploads: ServerProcess) -> None:
    """Twenty uploads at ~1 KB/s each while `GET /ping` is timed: p99 under 50 ms."""
    socks = []
    try:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", uploads.port), timeout=10)
            sock.sendall(_head("/upload", uploads.port, 1_000_000) + _part_start())
            socks.append(sock)
        pieces = iter(lambda: b"s" * 100, None)  # 100 bytes per client every 0.1 s
        latencies = []
        with httpx.Client(base_url=uploads.base_url, timeout=5) as client:
            next_trickle = time.monotonic()
            end = time.monotonic() + 4
            while time.monotonic() < end:
                if time.monotonic() >= next_trickle:
                    _trickle(socks, pieces)
                    next_trickle += 0.1
                start = time.perf_counter()
                assert client.get("/ping").text == "pong"
                latencies.append(time.perf_counter() - start)
                time.sleep(0.005)
    finally:
        for sock in socks:
            sock.close()
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    print(f"\n{len(latencies)} pings beside 20 slow uploads: p99 {p99:.1f} ms")
    assert len(latencies) > 100
    assert p99 < 50
