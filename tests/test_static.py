"""StaticFiles through the app, over ASGI and RSGI: types, HEAD, html/SPA fallbacks, and
what must be refused. Validators, ranges and precompressed siblings:
test_static_conditional.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ambi import App, ConfigurationError, HTTPException, JSONResponse, StaticFiles
from ambi.static._response import CHUNK_SIZE
from ambi.testing import TestClient

from . import _static_files
from ._static_files import BIG, ClientFor

# the shared fixtures, bound here so that pytest finds them for this file's tests
public = _static_files.public
serve = _static_files.serve


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
