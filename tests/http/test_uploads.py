"""Uploads through a route, over both handler kinds and both server interfaces: spooling,
limits (route `max_body_size=`, `File(max_size=)`, fields), `save_to`, lists, optional
files, files beside form fields and form models, and temporary files closed after the
response."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pytest

from ambi import App, BaseModel, Body, ConfigurationError, File, Form, UploadFile
from ambi.http import _spool
from ambi.testing import TestClient

MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]
ClientFor = Callable[[App], TestClient]


def open_files_under(folder: Path) -> list[str]:
    """This process's open file descriptors on files in `folder` (deleted ones too)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


def size_of(file: UploadFile) -> int:
    return file.size


def length_of(data: list[str] = Body()) -> int:
    return len(data)


def test_a_big_upload_is_spooled_and_closed_after_the_response(
    client_for: ClientFor, make_handler: MakeHandler, tmp_path: Path
) -> None:
    app = App(upload_spool_size=1024, upload_dir=tmp_path)
    seen: dict[str, Any] = {}

    def handler(file: UploadFile = File(max_size="1MB")) -> dict[str, Any]:
        seen["upload"] = file
        seen["open"] = open_files_under(tmp_path)
        return {"size": file.size, "in_memory": file.in_memory}

    app.post("/up")(make_handler(handler))
    client = client_for(app)
    data = os.urandom(200_000)
    response = client.post("/up", files={"file": ("x.bin", data)})
    assert response.json() == {"size": 200_000, "in_memory": False}
    assert len(seen["open"]) == 1  # the spooled upload, unnamed in the folder
    assert os.listdir(tmp_path) == []
    assert seen["upload"].file.closed
    assert open_files_under(tmp_path) == []
    small = client.post("/up", files={"file": ("s.bin", b"tiny")})
    assert small.json() == {"size": 4, "in_memory": True}


def test_save_to_from_def_and_async_def(interface: str, tmp_path: Path) -> None:
    app = App(upload_spool_size=16)

    @app.post("/sync")
    def save_sync(file: UploadFile) -> str:
        return file.save_to(tmp_path / "sync")

    @app.post("/async")
    async def save_async(file: UploadFile) -> str:
        return await file.save_to(tmp_path / "async", stream=True)

    with TestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        for kind in ("sync", "async"):
            first = client.post(f"/{kind}", files={"file": ("../../a.txt", b"x" * 100)}).text
            second = client.post(f"/{kind}", files={"file": ("a.txt", b"y")}).text
            assert Path(first) == tmp_path / kind / "a.txt"
            assert Path(second) == tmp_path / kind / "a-1.txt"
            assert Path(first).read_bytes() == b"x" * 100
            assert Path(second).read_bytes() == b"y"


def test_file_max_size_raises_the_route_limit_above_the_app_limit(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App(max_body_size=1000)

    def handler(file: UploadFile = File(max_size="10KB")) -> int:
        return file.size

    app.post("/up")(make_handler(handler))
    app.post("/plain")(make_handler(size_of))
    client = client_for(app)
    assert client.post("/up", files={"file": ("a", b"x" * 9000)}).json() == 9000
    over = client.post("/up", files={"file": ("a", b"x" * 10241)})
    assert over.status_code == 413
    assert over.headers["connection"] == "close"
    assert "file 'file' larger than 10240 bytes" in over.json()["detail"]
    # no max_size: the app's limit bounds the whole body
    assert client.post("/plain", files={"file": ("a", b"x" * 5000)}).status_code == 413


def test_route_max_body_size_raises_and_lowers(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App(max_body_size=1000)
    app.post("/big", max_body_size="64KB")(make_handler(size_of))
    app.post("/tiny", max_body_size=100)(make_handler(size_of))
    app.post("/json", max_body_size="2KB")(make_handler(length_of))
    client = client_for(app)
    assert client.post("/big", files={"file": ("a", b"x" * 50_000)}).json() == 50_000
    assert client.post("/tiny", files={"file": ("a", b"x" * 200)}).status_code == 413
    assert client.post("/json", json=["x"] * 300).json() == 300
    assert client.post("/json", json=["x" * 3000]).status_code == 413


def test_a_huge_field_is_413_even_on_a_big_upload_route(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App(max_body_size=1000)

    def handler(note: str = Form(), file: UploadFile = File(max_size="1MB")) -> str:
        return note

    app.post("/up")(make_handler(handler))
    client = client_for(app)
    ok = client.post("/up", data={"note": "n" * 500}, files={"file": ("a", b"x" * 50_000)})
    assert ok.text == "n" * 500
    huge = client.post("/up", data={"note": "n" * 5000}, files={"file": ("a", b"x")})
    assert huge.status_code == 413
    assert "form fields" in huge.json()["detail"]
    urlencoded = client.post("/up", data={"note": "n" * 5000})
    assert urlencoded.status_code == 413


def test_lists_optional_files_and_bytes(client_for: ClientFor, make_handler: MakeHandler) -> None:
    app = App(max_body_size=1000, upload_spool_size=10)

    def handler(
        files: list[UploadFile] = File(max_size="2KB", max_length=3),
        maybe: UploadFile | None = None,
        raw: bytes | None = File(None),
    ) -> dict[str, Any]:
        return {
            "names": [f.filename for f in files],
            "sizes": [f.size for f in files],
            "maybe": maybe.filename if maybe is not None else None,
            "raw": len(raw) if raw is not None else None,
        }

    app.post("/up")(make_handler(handler))
    client = client_for(app)
    three = [("files", (f"{i}.bin", b"z" * 1900)) for i in range(3)]
    response = client.post("/up", files=three)
    assert response.json() == {
        "names": ["0.bin", "1.bin", "2.bin"],
        "sizes": [1900] * 3,
        "maybe": None,
        "raw": None,
    }
    both = client.post("/up", files=[*three[:1], ("maybe", ("m", b"1")), ("raw", ("r", b"abc"))])
    assert both.json()["maybe"] == "m"
    assert both.json()["raw"] == 3
    assert client.post("/up", files=[("files", ("big", b"z" * 2049))]).status_code == 413
    # four files: over the route's limit (1000 + 3 x 2 KiB) as the fourth arrives ...
    assert client.post("/up", files=three + three[:1]).status_code == 413
    # ... and four small ones are one too many for the list
    small = [("files", (f"{i}", b"s")) for i in range(4)]
    assert client.post("/up", files=small).json()["detail"][0]["type"] == "too_long"


class Profile(BaseModel):
    name: str
    age: int


def test_files_beside_fields_and_a_form_model(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()

    def handler(
        profile: Annotated[Profile, Form()],
        avatar: UploadFile,
        caption: str = Form(""),
    ) -> dict[str, Any]:
        return {"profile": profile.model_dump(), "avatar": avatar.filename, "caption": caption}

    app.post("/up")(make_handler(handler))
    client = client_for(app)
    response = client.post(
        "/up",
        data={"name": "ada", "age": "36", "caption": "me"},
        files={"avatar": ("me.png", b"\x89PNG")},
    )
    assert response.json() == {
        "profile": {"name": "ada", "age": 36},
        "avatar": "me.png",
        "caption": "me",
    }
    invalid = client.post("/up", data={"name": "ada", "age": "old"}, files={"avatar": ("a", b"")})
    assert [e["loc"] for e in invalid.json()["detail"]] == [["body", "age"]]


@pytest.mark.parametrize("value", ["lots", -1, 1.5, True])
def test_a_wrong_max_body_size_is_refused_at_registration(value: Any) -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="max_body_size"):
        app.post("/x", max_body_size=value)(lambda: None)


def test_upload_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="upload_dir"):
        App(upload_dir=tmp_path / "missing")
    with pytest.raises(ConfigurationError, match="upload_spool_size"):
        App(upload_spool_size=-1)


def test_an_upload_the_disk_has_no_room_for_is_507_and_leaves_nothing(
    client_for: ClientFor,
    make_handler: MakeHandler,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(upload_spool_size=1024, upload_dir=tmp_path, max_body_size=20 * 1024 * 1024)
    calls: list[int] = []

    def handler(file: UploadFile) -> int:
        calls.append(file.size)
        return file.size

    app.post("/up")(make_handler(handler))

    def full(fd: int, buffers: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_spool, "_writev", full)
    response = client_for(app).post("/up", files={"file": ("x.bin", os.urandom(3_000_000))})
    assert response.status_code == 507
    assert response.json() == {"detail": "the server has no room to store this upload"}
    assert response.headers["connection"] == "close"
    assert calls == []  # the handler never saw a truncated file
    assert os.listdir(tmp_path) == []
    assert open_files_under(tmp_path) == []
    assert "could not be stored" in caplog.text
