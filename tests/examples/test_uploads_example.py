"""examples/uploads.py: save_to, a size-limited upload, a form with several files, in
process over both interfaces, and served by Granian with a real client."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ambi import App
from ambi.testing import TestClient

from ..servers.conftest import free_port, start_process
from ._load import load_example

uploads = load_example("uploads")
ClientFor = Callable[[App], TestClient]


@pytest.fixture
def client(client_for: ClientFor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(uploads, "MEDIA", tmp_path)
    return client_for(uploads.app)


def test_photos_are_saved_under_safe_unused_names(client: TestClient, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024)  # past the spool threshold
    first = client.post("/photos", files={"file": ("../../me.png", data, "image/png")})
    second = client.post("/photos", files={"file": ("me.png", b"again")})
    assert first.status_code == 201, first.text
    assert first.json() == {"filename": "../../me.png", "size": len(data), "saved_as": "me.png"}
    assert second.json()["saved_as"] == "me-1.png"
    assert (tmp_path / "photos" / "me.png").read_bytes() == data
    assert client.get("/photos").json() == ["me-1.png", "me.png"]


def test_the_avatar_is_limited_to_2_mb(client: TestClient) -> None:
    small = b"\x89PNG" * 1000
    response = client.post("/avatar", files={"file": ("a.png", small, "image/png")})
    assert response.json() == {
        "content_type": "image/png",
        "size": len(small),
        "sha256": hashlib.sha256(small).hexdigest(),
    }
    too_big = client.post("/avatar", files={"file": ("a.png", b"x" * (2 * 1024 * 1024 + 1))})
    assert too_big.status_code == 413
    assert "larger than 2097152 bytes" in too_big.json()["detail"]


def test_an_album_takes_fields_and_files(client: TestClient, tmp_path: Path) -> None:
    response = client.post(
        "/albums",
        data={"title": "holiday", "tags": ["sea", "sun"]},
        files=[("files", ("a.jpg", b"a" * 10)), ("files", ("b.jpg", b"b" * 20))],
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "title": "holiday",
        "tags": ["sea", "sun"],
        "files": ["a.jpg", "b.jpg"],
        "bytes": 30,
        "cover": None,
    }
    assert sorted(p.name for p in (tmp_path / "albums" / "holiday").iterdir()) == ["a.jpg", "b.jpg"]
    bad = client.post("/albums", data={"title": "../up"}, files=[("files", ("a", b"a"))])
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "title"]


@pytest.mark.server
def test_uploads_served_by_granian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBI_UPLOADS_DIR", str(tmp_path / "media"))
    port = free_port()
    server = start_process(
        [sys.executable, "-m", "ambi.cli", "run", "examples/uploads.py", "--port", str(port)],
        port,
        tmp_path,
        name="uploads",
        ready_path="/photos",
    )
    try:
        data = os.urandom(5 * 1024 * 1024)
        response = httpx.post(
            f"http://127.0.0.1:{port}/photos", files={"file": ("big.bin", data)}, timeout=30
        )
        assert response.status_code == 201, response.text
        listed = httpx.get(f"http://127.0.0.1:{port}/photos", timeout=10).json()
        assert listed == ["big.bin"]
        assert (tmp_path / "media" / "photos" / "big.bin").read_bytes() == data
    finally:
        assert server.stop() == 0, server.describe()
