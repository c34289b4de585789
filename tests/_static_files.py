"""The fixtures of the StaticFiles tests (`tests/test_static*.py`): `public`, the folder
they serve, and `serve(**options)`, a client for an app that serves it."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from ambi import App
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]

BIG = bytes(range(256)) * 1024  # 256 KiB: several chunks


@pytest.fixture
def public(tmp_path: Path) -> Path:
    """`tmp_path/public`, with files of several types, an index page, an empty folder and
    `BIG`; and `tmp_path/secret.txt` beside it, which must never be served."""
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
