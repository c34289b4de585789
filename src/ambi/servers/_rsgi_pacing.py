"""Backpressure for RSGI streams, which Granian does not apply.

Granian's RSGI stream transport (`response_stream`) queues every chunk in an unbounded
channel (`mpsc::UnboundedSender` in src/rsgi/io.rs) and `send_bytes` returns a future that
is already done: nothing ever waits, so a generator feeding a slow reader fills the
worker's memory with the whole body (125 MB read at 640 KB/s: +125 MB RSS in 2 s, never
given back). Its ASGI path has a channel of 4 chunks and does wait.

So the sender paces itself by what the kernel tells about the connection's socket: the
bytes it took so far (TCP_INFO's `tcpi_bytes_acked` plus the unacknowledged bytes still
in its send queue, SIOCOUTQ). What was handed to Granian minus what the kernel took is
what waits in Granian's buffers; past `WINDOW` bytes the stream waits for the reader.
The socket is the worker's own (Granian's tokio side holds it): it is found once per
connection, by its two addresses, in the thread pool, and only for a stream that grew past
`CHECK_EVERY` (small streams and events pay nothing). Where it cannot be found (not Linux,
a Unix socket) nothing is paced. Over HTTP/2 the streams of one connection share its
socket, and one stream takes the bytes the kernel took for the others as its own: there
the bound is not exact (HTTP/1.1, what `listen()` serves by default, has one stream at a
time per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import struct
import sys
import termios
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..execution import Engine

logger = logging.getLogger("ambi.server")

#: Bytes a stream may have waiting in Granian's buffers (beyond the kernel's own).
WINDOW = 1024 * 1024
#: Bytes sent between two looks at the socket.
CHECK_EVERY = 256 * 1024
_TCP_INFO_SIZE = 136
_BYTES_ACKED = struct.Struct("=Q")  # struct tcp_info: __u64 tcpi_bytes_acked at offset 120
_BYTES_ACKED_AT = 120
_OUTQ = struct.Struct("i")
_LINUX = sys.platform.startswith("linux")


Address = tuple[str, int]


def split_address(address: str) -> Address | None:
    """`"host:port"` (RSGI's `client` and `server`) as `(host, port)`."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


Ends = tuple[Address, Address]


def _ends_of(fd: int) -> Ends | None:
    """`(peer, local)` of the TCP socket `fd` (None for any other descriptor)."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
        if sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6):
            peer, local = sock.getpeername(), sock.getsockname()
            return (peer[0], peer[1]), (local[0], local[1])
    return None


_lock = threading.Lock()
#: The ends of every socket seen by the last scan, by its inode ("socket:[N]"; an inode
#: number is not used again): a later scan asks the kernel only about new sockets.
_SEEN: dict[str, Ends | None] = {}
#: The descriptor found for a connection (its next stream looks there first).
_FOUND: dict[Ends, int] = {}


def _inode(fd: int) -> str | None:
    with contextlib.suppress(OSError):
        target = os.readlink(f"/proc/self/fd/{fd}")
        if target.startswith("socket:"):
            return target
    return None


def _dup_if(fd: int, inode: str) -> socket.socket | None:
    """A duplicate of `fd`, if it still is the socket `inode`."""
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=os.dup(fd))
        if _inode(sock.fileno()) == inode:
            return sock
        sock.close()
    return None


def find_socket(peer: Address, local: Address) -> socket.socket | None:
    """A duplicate of this process's TCP socket from `peer` to `local` (or None).

    Blocking (a look at each descriptor): run it in the thread pool. The first scan asks
    the kernel about every socket of the process (2,000 sockets: about 0.1 s); later ones
    only read the descriptors' inodes and ask about the sockets not seen before.
    """
    if not _LINUX:
        return None
    wanted = (peer, local)
    with _lock:
        known = _FOUND.pop(wanted, None)
        if known is not None:
            inode = _inode(known)
            if inode is not None and _SEEN.get(inode) == wanted:
                sock = _dup_if(known, inode)
                if sock is not None:
                    _FOUND[wanted] = known
                    return sock
        try:
            names = os.listdir("/proc/self/fd")
        except OSError:
            return None
        seen: dict[str, Ends | None] = {}
        found: tuple[int, str] | None = None
        for name in names:
            fd = int(name)
            inode = _inode(fd)
            if inode is None:
                continue
            ends = _SEEN[inode] if inode in _SEEN else _ends_of(fd)
            seen[inode] = ends
            if ends == wanted:
                found = fd, inode
        _SEEN.clear()
        _SEEN.update(seen)  # the sockets closed since the last scan are forgotten
        if found is None:
            return None
        if len(_FOUND) >= 1024:
            _FOUND.clear()  # connections come and go: keep it small
        _FOUND[wanted] = found[0]
        return _dup_if(*found)


def _taken(sock: socket.socket) -> int:
    """Bytes the kernel took from the process on this socket so far."""
    outq = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    acked: int = _BYTES_ACKED.unpack_from(info, _BYTES_ACKED_AT)[0]
    unacked: int = _OUTQ.unpack(outq)[0]
    return acked + unacked


class Pacer:
    """Call `await pacer.sent(n)` after handing `n` bytes to Granian's stream transport."""

    __slots__ = ("_base", "_engine", "_local", "_next_check", "_peer", "_sent", "_sock")

    def __init__(self, peer: Address | None, local: Address | None, engine: Engine) -> None:
        self._engine = engine
        self._peer = peer
        self._local = local
        self._sent = 0
        self._next_check = CHECK_EVERY
        self._sock: socket.socket | None = None
        #: (bytes sent, bytes the kernel had taken) when the socket was found
        self._base: tuple[int, int] | None = None

    async def sent(self, size: int) -> None:
        self._sent += size
        if self._sent < self._next_check:
            return
        self._next_check = self._sent + CHECK_EVERY
        if self._base is None and not await self._start():
            self._next_check = sys.maxsize  # nothing to pace by
            return
        delay = 0.001
        while self._waiting() > WINDOW:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def _start(self) -> bool:
        peer, local = self._peer, self._local
        sock = None
        if peer is not None and local is not None:
            sock = await self._engine.run_in_thread(find_socket, peer, local)
        if sock is None:
            logger.debug("no TCP socket found for %s: this RSGI stream is not paced", peer)
            return False
        try:
            taken = _taken(sock)
        except (OSError, struct.error):
            sock.close()
            return False
        self._sock = sock
        # What was sent before this point may have left already: counted as waiting, so the
        # estimate errs by at most CHECK_EVERY bytes, on the safe side.
        self._base = (0, taken)
        return True

    def _waiting(self) -> int:
        """Bytes handed to Granian that the kernel has not taken yet (an upper bound)."""
        if self._sock is None or self._base is None:
            return 0
        try:
            taken = _taken(self._sock) - self._base[1]
        except OSError:
            return 0  # the connection is gone: the stream learns it from Granian
        return self._sent - taken

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
