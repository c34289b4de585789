"""Security features on real servers (127.0.0.1, every server path):

- an unauthorised 10 MB upload to a guarded route is refused before its body is read:
  the 401 arrives while the client has sent only the headers and 1 KB of the body (an
  authorised one, for contrast, waits for the body);
- two server processes limited through the same Redis share one budget.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest
import redis

from .apps.secure import SECRET
from .conftest import ServerProcess, StartApp

pytestmark = pytest.mark.server

TEN_MB = 10 * 1024 * 1024


def _upload_head(token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
        f"Content-Type: application/octet-stream\r\nContent-Length: {TEN_MB}\r\n\r\n"
    ).encode()


def _status_line(sock: socket.socket) -> bytes:
    """The response's status line and headers, as far as they have arrived."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def secure(start_app: StartApp, server_path: str) -> ServerProcess:
    return start_app("secure", server_path)


def test_an_unauthorised_upload_is_refused_before_its_body_is_read(secure: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", secure.port), timeout=10) as sock:
        sock.sendall(_upload_head(None) + b"x" * 1024)  # 10 MB announced, 1 KB sent
        started = time.monotonic()
        head = _status_line(sock)
        took = time.monotonic() - started
    assert head.startswith(b"HTTP/1.1 401"), head[:200]
    assert b"\r\nwww-authenticate: bearer" in head.lower()
    assert took < 5

    # Authorised: the server waits for the body before the handler answers.
    token = jwt.encode({"roles": ["editor"], "exp": time.time() + 60}, SECRET, algorithm="HS256")
    with socket.create_connection(("127.0.0.1", secure.port), timeout=10) as sock:
        sock.sendall(_upload_head(token) + b"x" * 1024)
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing: the body is still awaited
        sock.settimeout(30)
        sock.sendall(b"x" * (TEN_MB - 1024))
        head = _status_line(sock)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]


@pytest.fixture
def redis_prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at 127.0.0.1:6379 is not answering: {exc}")
    prefix = f"ambi-test:{uuid.uuid4().hex}"
    monkeypatch.setenv("AMBI_TEST_REDIS_PREFIX", prefix)  # inherited by the servers
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_two_processes_share_one_limit(start_app: StartApp, redis_prefix: str) -> None:
    servers = [start_app("secure", "granian-rsgi") for _ in range(2)]
    statuses: dict[int, list[int]] = {0: [], 1: []}
    pids: set[int] = set()
    with httpx.Client(timeout=10) as client:
        for n in range(16):
            which = n % 2
            response = client.get(f"{servers[which].base_url}/shared")
            statuses[which].append(response.status_code)
            if response.status_code == 200:
                pids.add(response.json()["pid"])
    allowed = statuses[0].count(200) + statuses[1].count(200)
    assert allowed == 10  # fixed_window(10, 60), one budget for both processes
    assert statuses[0][:5] == statuses[1][:5] == [200] * 5
    assert statuses[0][5:] == statuses[1][5:] == [429] * 3
    assert len(pids) == 2
