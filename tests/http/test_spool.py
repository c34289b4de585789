"""`Spool` on its own: the batches written to its temporary file arrive whole and in order,
the file handed over holds exactly its bytes (no reserve left past them), whether its
blocks were reserved ahead or not, and a short `writev` or a reserve refused changes
nothing but the speed."""

from __future__ import annotations

import io
import os

import pytest

from ambi.http import _spool
from ambi.http._spool import PREALLOCATE, Spool


def batches(seed: int) -> list[list[bytes]]:
    """Batches of chunks of uneven sizes (empty ones too), ~11 MB in all: past one reserve."""
    sizes = [[5, 0, 1000], [3_000_000, 7], [0], [4_999_999, 3_000_001], [1, 123]]
    return [[os.urandom(n) if n else b"" for n in batch] for batch in sizes[seed:] + sizes[:seed]]


def spooled(chunk_batches: list[list[bytes]]) -> tuple[io.BufferedRandom, Spool]:
    spool = Spool(threshold=10, directory=None)
    for chunks in chunk_batches:
        spool.write(chunks)
    file = spool.finish()
    assert isinstance(file, io.BufferedRandom)
    return file, spool


@pytest.fixture(params=["reserved", "plain"])
def reserving(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways of writing, whatever the file system of the temporary folder."""
    reserve: bool = request.param == "reserved"
    monkeypatch.setattr(_spool, "_preallocates", lambda fd: reserve)
    return reserve


@pytest.mark.parametrize("seed", range(3))
def test_the_file_holds_exactly_the_bytes_written(seed: int, reserving: bool) -> None:
    chunk_batches = batches(seed)
    expected = b"".join(b"".join(chunks) for chunks in chunk_batches)
    file, spool = spooled(chunk_batches)
    with file:
        assert spool.written == len(expected)
        assert os.fstat(file.fileno()).st_size == len(expected)  # the reserve cut off
        assert file.read() == expected
        file.seek(0)
        assert file.readline() == expected[: expected.find(b"\n") + 1]  # buffered reads
    assert (spool.allocated >= spool.written) if reserving else (spool.allocated == -1)


def test_blocks_are_reserved_ahead_only_where_asked(reserving: bool) -> None:
    spool = Spool(threshold=10, directory=None)
    spool.write([b"x" * 1000])
    if reserving:
        assert spool.allocated == PREALLOCATE  # one reserve, bigger than the batch
        spool.write([b"y" * (PREALLOCATE - 1000)])  # fills it exactly: no new reserve
        assert spool.allocated == PREALLOCATE
        spool.write([b"z"])
        assert spool.allocated == 2 * PREALLOCATE
    else:
        assert spool.allocated == -1
    spool.discard()


def test_a_refused_reserve_falls_back_to_plain_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fd: int, offset: int, length: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_spool, "_preallocates", lambda fd: True)
    monkeypatch.setattr(_spool, "_fallocate", refuse)
    file, spool = spooled([[b"abc"], [b"def" * 1000]])
    with file:
        assert spool.allocated == -1
        assert file.read() == b"abc" + b"def" * 1000


def test_a_short_writev_is_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.writev
    calls: list[int] = []

    def short(fd: int, chunks: list[bytes]) -> int:  # writes at most 7 bytes a call
        calls.append(len(chunks))
        data = b"".join(chunks)[:7]
        return real(fd, [data])

    monkeypatch.setattr(_spool, "_writev", short)
    monkeypatch.setattr(_spool, "_IOV_MAX", 2)  # and at most 2 chunks a call
    chunks = [b"0123456789", b"abc", b"", b"defghijklmnop", b"q"]
    file, _ = spooled([chunks])
    with file:
        assert file.read() == b"".join(chunks)
    assert calls == [2, 2, 1]  # the chunks in groups of _IOV_MAX


@pytest.mark.skipif(not os.path.exists("/proc/self/mountinfo"), reason="Linux's mount table")
def test_the_file_system_is_told_apart_by_device() -> None:
    kind = _spool._fs_type(os.stat(os.getcwd()).st_dev)
    assert kind
    assert kind.isprintable()
    assert " " not in kind
    assert _spool._fs_type(os.stat("/proc").st_dev) == "proc"
    assert _spool._fs_type(-1) is None  # no such device
