"""StaticFiles through the app, over ASGI and RSGI: what the request headers choose --
validators and 304, Cache-Control, byte ranges and If-Range, precompressed siblings by
Accept-Encoding. (The header parsers alone: test_static_conditions.py.)"""

from __future__ import annotations

import email.parser
import email.policy
import gzip
import importlib
import os
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from ambi.testing import TestClient

from . import _static_files
from ._static_files import BIG

try:
    brotli: Any = importlib.import_module("brotli")
except ImportError:
    brotli = None

# the shared fixtures, bound here so that pytest finds them for this file's tests
public = _static_files.public
serve = _static_files.serve


# Validators and 304 -----------------------------------------------------------------------


def test_etag_and_last_modified(serve: Callable[..., TestClient], public: Path) -> None:
    client = serve()
    first = client.get("/static/hello.txt")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    mtime = int((public / "hello.txt").stat().st_mtime)
    assert first.headers["last-modified"] == formatdate(mtime, usegmt=True)
    assert client.get("/static/hello.txt").headers["etag"] == etag  # stable
    os.utime(public / "hello.txt", (mtime + 10, mtime + 10))
    assert client.get("/static/hello.txt").headers["etag"] != etag  # changes with the file


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("{etag}", 304),
        ("W/{etag}", 304),  # weak comparison
        ('"other", {etag}', 304),
        ("*", 304),
        ('"other"', 200),
    ],
)
def test_if_none_match(serve: Callable[..., TestClient], header: str, status: int) -> None:
    client = serve(cache_control="max-age=60")
    etag = client.get("/static/hello.txt").headers["etag"]
    response = client.get("/static/hello.txt", headers={"if-none-match": header.format(etag=etag)})
    assert response.status_code == status
    if status == 304:
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "max-age=60"
        assert "content-length" not in response.headers


def test_if_modified_since(serve: Callable[..., TestClient], public: Path) -> None:
    client = serve()
    mtime = int((public / "hello.txt").stat().st_mtime)

    def status(since: str) -> int:
        return client.get("/static/hello.txt", headers={"if-modified-since": since}).status_code

    assert status(formatdate(mtime, usegmt=True)) == 304
    assert status(formatdate(mtime + 3600, usegmt=True)) == 304
    assert status(formatdate(mtime - 1, usegmt=True)) == 200
    assert status("not a date") == 200
    # If-None-Match wins over If-Modified-Since
    response = client.get(
        "/static/hello.txt",
        headers={"if-none-match": '"other"', "if-modified-since": formatdate(mtime, usegmt=True)},
    )
    assert response.status_code == 200


def test_cache_control(serve: Callable[..., TestClient]) -> None:
    assert "cache-control" not in serve().get("/static/hello.txt").headers
    client = serve(cache_control="public, max-age=3600")
    assert client.get("/static/hello.txt").headers["cache-control"] == "public, max-age=3600"
    assert "cache-control" not in client.get("/static/nope").headers


# Ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-", 1000, len(BIG)),
        ("bytes=-500", len(BIG) - 500, len(BIG)),
        ("bytes=65530-131080", 65530, 131081),  # across chunk boundaries
        ("bytes=100-999999999", 100, len(BIG)),  # clamped to the file
        ("bytes=-999999999", 0, len(BIG)),
        ("bytes=10-20, 15-30", 10, 31),  # overlapping ranges merge into one
    ],
)
def test_single_range(serve: Callable[..., TestClient], header: str, start: int, end: int) -> None:
    response = serve().get("/static/big.bin", headers={"range": header})
    assert response.status_code == 206
    assert response.content == BIG[start:end]
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(BIG)}"


def _parts(response_content: bytes, content_type: str) -> list[tuple[str, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"content-type: " + content_type.encode() + b"\r\n\r\n" + response_content
    )
    return [(part["content-range"], part.get_payload(decode=True)) for part in message.iter_parts()]


def test_multiple_ranges(serve: Callable[..., TestClient]) -> None:
    response = serve().get(
        "/static/big.bin", headers={"range": "bytes=200000-200009, 0-4, -3, 70000-140000"}
    )
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    assert response.headers["content-length"] == str(len(response.content))
    size = len(BIG)
    assert _parts(response.content, content_type) == [
        (f"bytes 0-4/{size}", BIG[0:5]),
        (f"bytes 70000-140000/{size}", BIG[70000:140001]),
        (f"bytes 200000-200009/{size}", BIG[200000:200010]),
        (f"bytes {size - 3}-{size - 1}/{size}", BIG[-3:]),
    ]


def test_parts_carry_the_file_type(serve: Callable[..., TestClient]) -> None:
    response = serve().get("/static/hello.txt", headers={"range": "bytes=0-0,2-3"})
    assert response.status_code == 206
    assert b"content-type: text/plain; charset=utf-8\r\n" in response.content


@pytest.mark.parametrize("header", ["bytes=5000000-", "bytes=-0", "bytes=300000-300001,-0"])
def test_unsatisfiable_range(serve: Callable[..., TestClient], header: str) -> None:
    response = serve().get("/static/big.bin", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BIG)}"
    # the status's phrase: "Range Not Satisfiable" (RFC 9110) from Python 3.13 on
    assert response.json() == {"detail": HTTPStatus(416).phrase}


@pytest.mark.parametrize(
    "header",
    [
        "items=0-5",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=-",
        "bytes=--5",
        "bytes=0-5;x",
        "bytes 0-5",
        "bytes=" + ",".join(["0-1"] * 100),
    ],
)
def test_unreadable_range_is_ignored(serve: Callable[..., TestClient], header: str) -> None:
    response = serve().get("/static/hello.txt", headers={"range": header})
    assert response.status_code == 200
    assert response.content == b"hello, world\n"


def test_if_range(serve: Callable[..., TestClient], public: Path) -> None:
    client = serve()
    full = client.get("/static/hello.txt")
    etag, modified = full.headers["etag"], full.headers["last-modified"]

    def get(if_range: str) -> int:
        headers = {"range": "bytes=0-4", "if-range": if_range}
        return client.get("/static/hello.txt", headers=headers).status_code

    assert get(etag) == 206
    assert get(modified) == 206
    assert get('"stale"') == 200
    assert get("W/" + etag) == 200  # If-Range compares strongly
    assert get(formatdate(0, usegmt=True)) == 200


def test_head_ignores_range(serve: Callable[..., TestClient]) -> None:
    response = serve().head("/static/big.bin", headers={"range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(BIG))


# Precompressed siblings -------------------------------------------------------------------


@pytest.fixture
def compressed(public: Path) -> Path:
    original = public / "css" / "site.css"
    (public / "css" / "site.css.gz").write_bytes(gzip.compress(original.read_bytes()))
    # Real brotli when the package is installed (then httpx decodes it), else stand-in bytes
    # that httpx leaves alone.
    (public / "css" / "site.css.br").write_bytes(
        brotli.compress(original.read_bytes()) if brotli is not None else b"pretend-brotli"
    )
    return public


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0.5", "gzip"),
        ("identity", None),
        ("", None),
    ],
)
def test_precompressed_sibling(
    serve: Callable[..., TestClient], compressed: Path, accept: str, coding: str | None
) -> None:
    response = serve().get("/static/css/site.css", headers={"accept-encoding": accept})
    assert response.status_code == 200
    assert response.headers["vary"] == "accept-encoding"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers.get("content-encoding") == coding
    if coding == "br" and brotli is None:
        assert response.content == b"pretend-brotli"  # httpx does not decode brotli here
    else:
        assert response.content == b"body { color: red }\n"


def test_precompressed_has_its_own_etag(serve: Callable[..., TestClient], compressed: Path) -> None:
    client = serve()
    gz = client.get("/static/css/site.css", headers={"accept-encoding": "gzip"})
    plain = client.get("/static/css/site.css", headers={"accept-encoding": "identity"})
    assert gz.headers["etag"] != plain.headers["etag"]
    again = client.get(
        "/static/css/site.css",
        headers={"accept-encoding": "gzip", "if-none-match": gz.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["vary"] == "accept-encoding"


def test_range_is_served_from_the_identity_file(
    serve: Callable[..., TestClient], compressed: Path
) -> None:
    response = serve().get(
        "/static/css/site.css", headers={"accept-encoding": "gzip", "range": "bytes=0-3"}
    )
    assert response.status_code == 206
    assert response.content == b"body"
    assert "content-encoding" not in response.headers


def test_precompressed_off(serve: Callable[..., TestClient], compressed: Path) -> None:
    response = serve(precompressed=False).get(
        "/static/css/site.css", headers={"accept-encoding": "gzip, br"}
    )
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_no_vary_without_siblings(serve: Callable[..., TestClient]) -> None:
    assert "vary" not in serve().get("/static/hello.txt").headers
