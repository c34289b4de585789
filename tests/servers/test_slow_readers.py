"""Slow readers on real servers: a stream sent to a client that reads slowly must not pile
up in the server's memory (Granian's RSGI stream transport buffers without limit; ambi's
RSGI sender paces itself, `ambi.servers._rsgi_pacing`). Bounded in time: each reader reads
64 KiB every 100 ms for a couple of seconds through a small receive buffer."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import ServerProcess, StartApp

pytestmark = pytest.mark.server

#: Each stream is much larger than what the readers take in the test: unpaced, the server
#: would hold nearly all of it.
STREAM_SIZE = 40_000_000
#: RSS growth allowed per slow reader (issue 8's target).
GROWTH_PER_READER = 8 * 1024 * 1024
READ_FOR = 1.5


def _rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants (a Granian worker is a child)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += 1024 * int(status.split("VmRSS:")[1].split()[0])
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                pids.extend(int(child) for child in children.split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def _read_slowly(port: int, path: str, until: float, received: list[int]) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        got = 0
        while time.monotonic() < until:
            data = sock.recv(64 * 1024)
            if not data:
                break
            got += len(data)
            time.sleep(0.1)
        received.append(got)


@pytest.fixture
def streams(start_app: StartApp, server_path: str) -> ServerProcess:
    return start_app("streams", server_path)


def test_slow_readers_cost_bounded_memory_and_fast_ones_get_everything(
    streams: ServerProcess,
) -> None:
    paths = [f"/big/async?size={STREAM_SIZE}", f"/big/sync?size={STREAM_SIZE}"]
    httpx.get(f"{streams.base_url}/big/async?size=3000000", timeout=10)  # warm both paths
    httpx.get(f"{streams.base_url}/big/sync?size=3000000", timeout=10)
    time.sleep(0.3)
    before = peak = _rss(streams.proc.pid)
    received: list[int] = []
    until = time.monotonic() + READ_FOR
    readers = [
        threading.Thread(target=_read_slowly, args=(streams.port, path, until, received))
        for path in paths
    ]
    for reader in readers:
        reader.start()
    while any(reader.is_alive() for reader in readers):
        peak = max(peak, _rss(streams.proc.pid))
        time.sleep(0.05)
    for reader in readers:
        reader.join(10)
    assert len(received) == len(paths)
    assert all(got > 256 * 1024 for got in received), received  # the streams did flow
    growth = peak - before
    assert growth < GROWTH_PER_READER * len(paths), (
        f"RSS grew by {growth / 2**20:.1f} MiB for {len(paths)} slow readers"
    )
    # and a fast reader still gets whole streams (past the pacing's first look at the socket)
    size = 6_000_000
    block = bytes(range(256)) * 256
    for kind in ("async", "sync"):
        response = httpx.get(f"{streams.base_url}/big/{kind}?size={size}", timeout=20)
        assert response.status_code == 200
        assert response.content == (block * (size // len(block) + 1))[:size]
