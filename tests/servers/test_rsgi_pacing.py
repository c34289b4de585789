"""The RSGI stream pacing (`ambi.servers._rsgi_pacing`) against a real TCP connection in
this process: a writer thread stands for Granian's tokio side, draining an unbounded queue
into the socket; the pacer must keep that queue within its window while the peer does not
read, and let everything through when it does."""

from __future__ import annotations

import asyncio
import collections
import socket
import sys
import threading
from collections.abc import Iterator

import pytest

from ambi.execution import Engine
from ambi.servers import _rsgi_pacing
from ambi.servers._rsgi_pacing import CHECK_EVERY, WINDOW, Pacer, find_socket, split_address

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

CHUNK = 64 * 1024


class _Queue:
    """An unbounded buffer drained into `sock` by a thread, as Granian's transport is."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.chunks: collections.deque[bytes] = collections.deque()
        self.size = self.largest = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.closed = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def send(self, chunk: bytes) -> None:
        with self.lock:
            self.chunks.append(chunk)
            self.size += len(chunk)
            self.largest = max(self.largest, self.size)
        self.ready.set()

    def _drain(self) -> None:
        while not self.closed:
            self.ready.wait(0.05)
            with self.lock:
                chunk = self.chunks.popleft() if self.chunks else None
                if not self.chunks:
                    self.ready.clear()
            if chunk is None:
                continue
            try:
                self.sock.sendall(chunk)
            except OSError:
                return
            with self.lock:
                self.size -= len(chunk)


@pytest.fixture
def engine() -> Iterator[Engine]:
    """Runs the socket search (blocking) in its thread pool, as the app's engine does."""
    engine = Engine(sync_workers=2)
    yield engine
    engine.stop(5)


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        try:
            yield client, server
        finally:
            client.close()
            server.close()


def test_the_queue_stays_within_the_window_while_the_peer_does_not_read(
    connection: tuple[socket.socket, socket.socket], engine: Engine
) -> None:
    client, server = connection
    queue = _Queue(server)
    pacer = Pacer(client.getsockname(), server.getsockname(), engine)

    async def produce() -> None:
        for _ in range(200):  # 12.5 MiB, of which the peer takes little
            queue.send(b"x" * CHUNK)
            await pacer.sent(CHUNK)
            await asyncio.sleep(0)

    try:
        with pytest.raises(TimeoutError):
            asyncio.run(asyncio.wait_for(produce(), 1.0))  # held back: it cannot end
    finally:
        queue.closed = True
        pacer.close()
    # the estimate errs by at most CHECK_EVERY, and one chunk goes out before each look
    assert queue.largest <= WINDOW + CHECK_EVERY + CHUNK


def test_everything_goes_through_to_a_reader(
    connection: tuple[socket.socket, socket.socket], engine: Engine
) -> None:
    client, server = connection
    queue = _Queue(server)
    pacer = Pacer(client.getsockname(), server.getsockname(), engine)
    total = 8 * WINDOW
    received = bytearray()

    def read() -> None:
        while len(received) < total:
            data = client.recv(1 << 16)
            if not data:
                return
            received.extend(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    async def produce() -> None:
        for n in range(total // CHUNK):
            queue.send(bytes([n % 256]) * CHUNK)
            await pacer.sent(CHUNK)

    try:
        asyncio.run(asyncio.wait_for(produce(), 20))
        reader.join(20)
    finally:
        queue.closed = True
        pacer.close()
    assert len(received) == total
    assert received[-1] == (total // CHUNK - 1) % 256


def test_no_socket_no_pacing(engine: Engine) -> None:
    assert find_socket(("192.0.2.1", 9), ("192.0.2.2", 9)) is None
    pacer = Pacer(split_address("192.0.2.1:9"), split_address("[::1]:80"), engine)

    async def produce() -> None:
        for _ in range(4 * WINDOW // CHUNK):
            await pacer.sent(CHUNK)  # nothing to look at: never waits

    asyncio.run(asyncio.wait_for(produce(), 5))
    assert split_address("[::1]:80") == ("::1", 80)
    assert split_address("nowhere") is None


def test_a_known_connection_is_found_again_without_a_scan(
    connection: tuple[socket.socket, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, server = connection
    peer, local = client.getsockname(), server.getsockname()
    first = find_socket(peer, local)
    assert first is not None
    first.close()

    def no_scan(path: str) -> list[str]:
        raise AssertionError("scanned /proc/self/fd again")

    monkeypatch.setattr(_rsgi_pacing.os, "listdir", no_scan)
    again = find_socket(peer, local)
    assert again is not None
    assert again.getpeername() == peer
    again.close()
