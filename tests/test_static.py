"""StaticFiles through the app, over ASGI and RSGI: types, validators and 304, ranges,
HEAD, html/SPA fallbacks, precompressed siblings, Cache-Control, and what must be refused."""

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

from ambi import App, ConfigurationError, HTTPException, JSONResponse, StaticFiles
from ambi.static._response import CHUNK_SIZE
from ambi.testing import TestClient

try:
    brotli: Any = importlib.import_module("brotli")
except ImportError:
    brotli = None

ClientFor = Callable[..., TestClient]

BIG = bytes(range(256)) * 1024  # 256 KiB: several chunks


@pytest.fixture
def public(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "css").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "empty").mkdir()
    (root / "hello.txt").write_text("hello, world\n")
    (root / "css" / "site.css").write_text("body { color: red }\n")
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / "big.bin").write_bytes(BIG)
    (root / "archive.tar.gz").write_bytes(gzip.compress(b"tar"))
    (root / "a b.txt").write_text("spaced")
    (tmp_path / "secret.txt").write_text("top secret")
    return root


@pytest.fixture
def serve(client_for: ClientFor, public: Path) -> Callable[..., TestClient]:
    """`serve(**options)`: a client for an app with `public` mounted at /static."""

    def make(**options: object) -> TestClient:
        app = App()
        app.mount_static("/static", public, **options)  # type: ignore[arg-type]
        return client_for(app)

    return make


# Plain files ------------------------------------------------------------------------------


def test_serves_files_with_their_content_type(serve: Callable[..., TestClient]) -> None:
    client = serve()
    text = client.get("/static/hello.txt")
    assert text.status_code == 200
    assert text.content == b"hello, world\n"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-length"] == "13"
    assert text.headers["accept-ranges"] == "bytes"
    css = client.get("/static/css/site.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/static/big.bin").headers["content-type"] == "application/octet-stream"
    assert client.get("/static/a%20b.txt").text == "spaced"
    # a .gz asked for as itself is a gzip file, not text with a content coding
    archive = client.get("/static/archive.tar.gz")
    assert archive.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in archive.headers


def test_large_file_in_chunks(serve: Callable[..., TestClient]) -> None:
    assert len(BIG) > 3 * CHUNK_SIZE
    response = serve().get("/static/big.bin")
    assert response.content == BIG
    assert response.headers["content-length"] == str(len(BIG))


def test_head_has_the_headers_of_get_and_no_body(serve: Callable[..., TestClient]) -> None:
    client = serve()
    get, head = client.get("/static/hello.txt"), client.head("/static/hello.txt")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-length", "content-type", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]


def test_other_methods_are_refused(serve: Callable[..., TestClient]) -> None:
    response = serve().post("/static/hello.txt", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_missing_files_and_directories_are_404(serve: Callable[..., TestClient]) -> None:
    client = serve()
    for path in ("/static/nope.txt", "/static/docs", "/static/docs/", "/static", "/static/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}
    assert client.get("/static/hello.txt/").status_code == 404  # a file is no folder


def test_special_files_are_not_served(serve: Callable[..., TestClient], public: Path) -> None:
    os.mkfifo(public / "pipe")  # opening it would block forever
    assert serve().get("/static/pipe").status_code == 404


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


# html=True and the SPA fallback -----------------------------------------------------------


def test_html_serves_index_and_redirects_to_the_slash(
    serve: Callable[..., TestClient], public: Path
) -> None:
    client = serve(html=True)
    page = client.get("/static/docs/")
    assert page.text == "<h1>docs</h1>"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    redirect = client.get("/static/docs?x=1", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "./docs/?x=1"
    assert client.get("/static/docs", follow_redirects=True).url.path == "/static/docs/"
    assert client.get("/static/empty/").status_code == 404  # no index.html in it
    (public / "index.html").write_text("top")
    assert client.get("/static", follow_redirects=False).headers["location"] == "./static/"
    assert client.get("/static/").text == "top"


def test_html_404_page(serve: Callable[..., TestClient], public: Path) -> None:
    assert serve(html=True).get("/static/nope").json() == {"detail": "Not Found"}
    (public / "404.html").write_text("<p>lost</p>")
    response = serve(html=True).get("/static/nope")
    assert response.status_code == 404
    assert response.text == "<p>lost</p>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_spa_fallback(client_for: ClientFor, public: Path) -> None:
    (public / "app.html").write_text("<div id=app></div>")
    app = App()

    @app.get("/api/ping")
    def ping() -> dict[str, bool]:
        return {"pong": True}

    app.mount("/", StaticFiles(directory=public, fallback="app.html"))
    client = client_for(app)
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    assert client.get("/settings/profile", headers=browser).text == "<div id=app></div>"
    assert client.get("/settings/profile", headers=browser).status_code == 200
    assert client.get("/hello.txt", headers=browser).text == "hello, world\n"  # files first
    assert client.get("/api/ping").json() == {"pong": True}  # routes before the mount
    assert client.get("/missing.js", headers={"accept": "*/*"}).status_code == 404


def test_fallback_must_exist(public: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"fallback 'nope\.html' is not a file"):
        StaticFiles(directory=public, fallback="nope.html")
    with pytest.raises(ConfigurationError, match="is not a file name"):
        StaticFiles(directory=public, fallback="../secret.txt")


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


# What must be refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/css%5c..%5c..%5csecret.txt",
        "/static/hello.txt%00.png",
        "/static/%00",
    ],
)
def test_traversal_is_refused(
    serve: Callable[..., TestClient], client_for: ClientFor, path: str
) -> None:
    response = serve(html=True).get(path)
    assert response.status_code == 404
    assert b"secret" not in response.content
    # the test client delivers the path decoded, as servers do: the attack reaches the app
    probe = App()
    probe.get("/{rest:path}")(lambda request: {"path": request.path})
    seen = client_for(probe).get(path).json()["path"]
    assert "/../" in seen or "\\" in seen or "\0" in seen


def test_symlinks(serve: Callable[..., TestClient], public: Path, tmp_path: Path) -> None:
    (public / "out.txt").symlink_to(tmp_path / "secret.txt")
    (public / "outdir").symlink_to(tmp_path)
    (public / "in.txt").symlink_to(public / "hello.txt")
    (public / "alias").symlink_to(public / "css")
    (public / "css" / "site.css.gz").symlink_to(tmp_path / "secret.txt")
    client = serve()
    assert client.get("/static/out.txt").status_code == 404
    assert client.get("/static/outdir/secret.txt").status_code == 404
    assert client.get("/static/in.txt").text == "hello, world\n"
    assert client.get("/static/alias/site.css").text == "body { color: red }\n"
    css = client.get("/static/css/site.css", headers={"accept-encoding": "gzip"})
    assert css.content == b"body { color: red }\n"  # the sibling leading out is not used
    allowed = serve(follow_symlink=True)
    assert allowed.get("/static/out.txt").text == "top secret"
    assert allowed.get("/static/%2e%2e/secret.txt").status_code == 404  # never `..`


def test_custom_404_handler_answers_static_misses(client_for: ClientFor, public: Path) -> None:
    app = App()
    app.mount_static("/static", public)

    @app.exception_handler(404)
    def not_found(request: object, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"missing": True}, 404)

    assert client_for(app).get("/static/nope").json() == {"missing": True}


# Configuration ----------------------------------------------------------------------------


def test_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist or is not a directory"):
        StaticFiles(directory=tmp_path / "nope")
    with pytest.raises(ConfigurationError, match="does not exist or is not a directory"):
        App().mount_static("/static", tmp_path / "nope")


def test_directory_made_later(client_for: ClientFor, tmp_path: Path) -> None:
    app = App()
    app.mount_static("/static", tmp_path / "later", check_dir=False)
    client = client_for(app)
    assert client.get("/static/a.txt").status_code == 404
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "a.txt").write_text("now")
    assert client.get("/static/a.txt").text == "now"


def test_repr(public: Path) -> None:
    files = StaticFiles(directory="public", html=True, check_dir=False)
    assert repr(files) == "StaticFiles(directory='public', html=True)"
