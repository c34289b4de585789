"""`Spool`: where an uploaded file's bytes go while its multipart body arrives.

In memory up to a threshold, then in a temporary file that the multipart reader
(`_multipart.py`) has written in the thread pool, in batches (never on the event loop). The
temporary file has no name in the folder (`tempfile.TemporaryFile`: removed by the system
as soon as it is closed, and also when the process dies).

A batch is written with one `os.writev` call on an unbuffered file (no copy into a
buffer, one system call for a batch's chunks). On ext4 and XFS the file's blocks are
reserved ahead of the writes (`posix_fallocate`, `PREALLOCATE` at a time, the excess cut
off at the end): writing into reserved blocks spares the file system its block
reservation page by page. On tmpfs the same made writing slower (it fills the reserved
pages with zeros first), so it is done only where it was measured to pay.
"""

from __future__ import annotations

import io
import os
import tempfile
from typing import IO

#: Bytes gathered in memory before one write to a spooled file (one trip to the pool).
WRITE_BATCH = 1024 * 1024
#: Bytes of a spooled file reserved at a time ahead of its writes (where it pays).
PREALLOCATE = 8 * 1024 * 1024
#: File systems where reserving blocks ahead pays (`_preallocates`).
_PREALLOCATING_FS = frozenset({"ext4", "xfs"})
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024
_writev = getattr(os, "writev", None)
_fallocate = getattr(os, "posix_fallocate", None)
#: Per device (`st_dev`): whether files there are preallocated.
_by_device: dict[int, bool] = {}


def _fs_type(device: int) -> str | None:
    """The file system type of the mount whose device is `device` (Linux only)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                # "36 35 98:0 /root /mnt opts [optional fields] - ext4 /dev/sda1 rw"
                fields = line.split()
                major, _, minor = fields[2].partition(":")
                if os.makedev(int(major), int(minor)) == device:
                    return fields[fields.index("-") + 1]
    except (OSError, ValueError, IndexError):
        return None
    return None


def _preallocates(fd: int) -> bool:
    """Whether the file `fd` is on a file system where reserving blocks ahead pays."""
    if _fallocate is None:
        return False
    device = os.fstat(fd).st_dev
    known = _by_device.get(device)
    if known is None:
        known = _by_device[device] = _fs_type(device) in _PREALLOCATING_FS
    return known


def _write_rest(fd: int, data: bytes | memoryview) -> None:
    """Write all of `data` (an unbuffered write may take only part of it)."""
    rest = memoryview(data)
    while rest:
        rest = rest[os.write(fd, rest) :]


def _write_all(file: IO[bytes], chunks: list[bytes]) -> None:
    """Write `chunks` at the file's position, all of them (a short write is resumed)."""
    fd = file.fileno()
    if _writev is None:  # pragma: no cover - every POSIX system has it
        for chunk in chunks:
            _write_rest(fd, chunk)
        return
    for start in range(0, len(chunks), _IOV_MAX):
        group = chunks[start : start + _IOV_MAX]
        done = _writev(fd, group)
        if done < sum(map(len, group)):  # rare on a regular file (a signal, a full disk)
            _write_rest(fd, memoryview(b"".join(group))[done:])


class Spool:
    """Where an upload's bytes go while it arrives (used by the multipart reader).

    On the loop: `append` keeps the bytes; `due()` says whether they should be written now.
    In the pool: `write(chunks)` writes a batch (making the temporary file on first use),
    `finish()` hands the written file over, rewound.
    """

    __slots__ = (
        "allocated",
        "directory",
        "file",
        "pending",
        "pending_size",
        "rolled",
        "threshold",
        "written",
    )

    def __init__(self, threshold: int, directory: str | None) -> None:
        self.threshold = threshold
        self.directory = directory
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.rolled = False  # past the threshold: the bytes go to a temporary file
        self.file: IO[bytes] | None = None
        self.written = 0  # bytes in the file
        self.allocated = -1  # the file's bytes reserved ahead (-1: not reserved ahead)

    def append(self, data: bytes) -> None:
        self.pending.append(data)
        self.pending_size += len(data)

    def due(self, total: int) -> bool:
        """Whether the pending bytes should go to the file now (`total`: the upload's size)."""
        if self.rolled:
            return self.pending_size >= WRITE_BATCH
        if total > self.threshold:
            self.rolled = True
            return True
        return False

    def take(self) -> list[bytes]:
        chunks, self.pending, self.pending_size = self.pending, [], 0
        return chunks

    def write(self, chunks: list[bytes]) -> None:
        """In the pool: write `chunks` to the temporary file."""
        file = self.file
        if file is None:
            file = self.file = tempfile.TemporaryFile(  # noqa: SIM115
                prefix="ambi-upload-", dir=self.directory, buffering=0
            )
            self.allocated = 0 if _preallocates(file.fileno()) else -1
        end = self.written + sum(map(len, chunks))
        if 0 <= self.allocated < end:
            self._reserve(file, end)
        _write_all(file, chunks)  # PERF: one system call a batch (same benchmark)
        self.written = end

    def _reserve(self, file: IO[bytes], end: int) -> None:
        # PERF: 100 MB written into blocks reserved ahead: ~23 -> ~17 ms of the writing
        # thread's CPU on ext4; with `writev`, 112 -> 96 ms of server CPU per 100 MB upload
        # (benchmarks/bench_uploads.py; RESULTS.md, "uploads: the 100 MB upload's file
        # system cost").
        size = max(end - self.written, PREALLOCATE)
        try:
            _fallocate(file.fileno(), self.written, size)  # type: ignore[misc]
        except OSError:  # not supported after all, or no room for a reserve: plain writes
            self.allocated = -1
            return
        self.allocated = self.written + size

    def finish(self) -> IO[bytes]:
        """In the pool: the written file, cut to its bytes, rewound and buffered."""
        file = self.file
        if file is None:
            raise RuntimeError("Spool.finish() before any write")
        if self.allocated > self.written:
            os.ftruncate(file.fileno(), self.written)
        file.seek(0)
        return io.BufferedRandom(file)  # type: ignore[arg-type]

    def in_memory(self) -> IO[bytes]:
        """The finished upload, when it never left memory."""
        pending = self.take()
        return io.BytesIO(pending[0] if len(pending) == 1 else b"".join(pending))

    def discard(self) -> None:
        """Drop what is held (on an error); closes the temporary file, if any."""
        self.pending, self.pending_size = [], 0
        if self.file is not None:
            self.file.close()
