"""`UploadFile` on its own: file names made safe, saving without overwriting, the methods
from sync and async code, and the streaming multipart reader fed chunk by chunk."""

from __future__ import annotations

import asyncio
import hashlib
import os
import string
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambi import HTTPException, UploadFile
from ambi.execution import Engine
from ambi.http import FormLimits, safe_filename
from ambi.http._multipart import read_form

# File names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ("/abs/path/x.txt", "x.txt"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("..", "upload"),
        (".", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".bashrc", "bashrc"),
        ("a\x00b\x1fc\x7f.txt", "abc.txt"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # the right-to-left override is invisible
        ('we<i>rd:"na|me?*.txt', "weirdname.txt"),
        ("  spaced  .txt  ", "spaced  .txt"),
    ],
)
def test_safe_filename(given_name: str | None, expected: str) -> None:
    assert safe_filename(given_name) == expected


def test_a_long_name_keeps_its_extension() -> None:
    name = safe_filename("é" * 300 + ".tar")
    assert name.endswith(".tar")
    assert len(name.encode()) <= 200


@given(st.text(max_size=300))
def test_a_safe_name_is_one_plain_file_name(name: str) -> None:
    safe = safe_filename(name)
    assert safe
    assert safe not in (".", "..")
    assert "/" not in safe
    assert "\\" not in safe
    assert "\x00" not in safe
    assert all(ch.isprintable() for ch in safe)
    assert not safe.startswith(".")
    assert not os.path.isabs(safe)
    assert len(safe.encode()) <= 200


# save_to ---------------------------------------------------------------------------------


def test_save_to_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "uploads"  # made on first use
    names = []
    for content in (b"one", b"two", b"three"):
        upload = UploadFile(filename="../report.txt")
        upload.write(content)
        names.append(Path(upload.save_to(target)).name)
    assert names == ["report.txt", "report-1.txt", "report-2.txt"]
    assert [(target / n).read_bytes() for n in names] == [b"one", b"two", b"three"]


def test_save_to_in_one_piece_and_keeps_the_position(tmp_path: Path) -> None:
    upload = UploadFile(filename="a.bin")
    upload.write(b"0123456789")
    upload.seek(4)
    saved = upload.save_to(tmp_path, stream=False)
    assert Path(saved).read_bytes() == b"0123456789"
    assert upload.read() == b"456789"


def test_save_to_a_symlink_name_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.txt").symlink_to(outside)
    upload = UploadFile(filename="x.txt")
    upload.write(b"new")
    assert Path(upload.save_to(folder)).name == "x-1.txt"
    assert outside.read_bytes() == b"keep"


async def test_methods_from_async_code_are_awaited(tmp_path: Path) -> None:
    engine = Engine(sync_workers=2)
    engine.start()
    try:
        upload = UploadFile(filename="n.txt")
        await upload.write(b"hello")
        assert await upload.seek(0) == 0
        assert await upload.read(2) == b"he"
        assert await upload.aread() == b"llo"
        saved = await upload.save_to(tmp_path)
        assert Path(saved).read_bytes() == b"hello"
        await upload.close()
        assert upload.file.closed
    finally:
        engine.stop()


# The streaming reader --------------------------------------------------------------------

BOUNDARY = "ambi-test-boundary"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    """A multipart/form-data body with `BOUNDARY`: the fields, then the files."""
    out = bytearray()
    for name, value in fields.items():
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, (filename, data) in files.items():
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


async def chunked(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for cut in [*sorted(c % (len(body) + 1) for c in cuts), len(body)]:
        if cut > start:
            yield body[start:cut]
            start = cut
        await asyncio.sleep(0)


LIMITS = FormLimits(body=1 << 20, fields=1 << 16, spool=64)
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.dictionaries(st.sampled_from(["a", "b", "note"]), st.text(string.printable)),
    data=st.binary(max_size=600),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_any_chunking_gives_the_same_form(
    fields: dict[str, str], data: bytes, cuts: list[int]
) -> None:
    body = multipart(fields, {"file": ("f.bin", data)})

    async def read() -> tuple[dict[str, str], bytes, bool]:
        engine = Engine(sync_workers=2)
        engine.start()
        try:
            form = await read_form(CONTENT_TYPE, chunked(body, cuts), LIMITS, engine)
            upload = form["file"]
            assert isinstance(upload, UploadFile)
            content = await upload.aread()
            on_disk = not upload.in_memory
            await engine.run_in_thread(form.close)
            texts = {k: v for k, v in form.items() if isinstance(v, str)}
            return texts, content, on_disk
        finally:
            engine.stop()

    texts, content, on_disk = asyncio.run(read())
    assert texts == fields
    assert content == data
    assert on_disk == (len(data) > LIMITS.spool)


async def test_a_big_file_goes_to_disk_in_batches_byte_identical(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    body = multipart({"name": "n"}, {"file": ("big.bin", data)})
    limits = FormLimits(body=1 << 24, fields=1024, spool=1024 * 1024, directory=str(tmp_path))
    engine = Engine(sync_workers=2)
    engine.start()
    try:
        form = await read_form(
            CONTENT_TYPE, chunked(body, list(range(0, len(body), 70001))), limits, engine
        )
        upload = form["file"]
        assert isinstance(upload, UploadFile)
        assert not upload.in_memory
        assert upload.size == len(data)
        assert hashlib.sha256(await upload.aread()).digest() == hashlib.sha256(data).digest()
        assert list(tmp_path.iterdir()) == []  # an unnamed temporary file
        await engine.run_in_thread(form.close)
        assert upload.file.closed
    finally:
        engine.stop()


@pytest.mark.parametrize(
    ("limits", "fields", "files", "message"),
    [
        (FormLimits(body=1000, fields=1000), {}, {"f": ("f", b"x" * 2000)}, "request body"),
        (
            FormLimits(body=10**6, fields=1000, files={"f": 100}),
            {},
            {"f": ("f", b"x" * 5000)},
            "file 'f'",
        ),
        (FormLimits(body=10**6, fields=100), {"a": "y" * 5000}, {}, "form fields"),
        (
            FormLimits(body=10**6, fields=10**6, parts=3),
            {"a": "1", "b": "2", "c": "3", "d": "4"},
            {},
            "parts",
        ),
    ],
)
async def test_limits_are_413_and_nothing_is_left_open(
    limits: FormLimits, fields: dict[str, str], files: dict[str, tuple[str, bytes]], message: str
) -> None:
    body = multipart(fields, files)
    engine = Engine(sync_workers=2)
    engine.start()
    read = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal read
        async for chunk in chunked(body, list(range(0, len(body), 50))):
            read += len(chunk)
            yield chunk

    try:
        with pytest.raises(HTTPException) as caught:
            await read_form(CONTENT_TYPE, counted(), limits, engine)
    finally:
        engine.stop()
    assert caught.value.status_code == 413
    assert message in str(caught.value.detail)
    assert caught.value.headers == {"connection": "close"}
    assert read < len(body) or message == "parts"


async def test_a_body_ending_early_is_400() -> None:
    body = multipart({"a": "1"}, {"f": ("f", b"data")})
    engine = Engine(sync_workers=1)
    engine.start()
    try:
        with pytest.raises(HTTPException) as caught:
            await read_form(CONTENT_TYPE, chunked(body[:-10], []), LIMITS, engine)
    finally:
        engine.stop()
    assert caught.value.status_code == 400
