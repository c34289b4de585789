"""`Form` fields (urlencoded or multipart) and `File` uploads, over both handler kinds and
both server interfaces."""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, File, Form, UploadFile
from ambi.testing import TestClient

from ._serve import ClientFor, MakeHandler, detail


def serve(client_for: ClientFor, make_handler: MakeHandler, fn: Callable[..., Any]) -> TestClient:
    app = App()
    app.post("/f")(make_handler(fn))
    return client_for(app)


def login(
    username: str = Form(min_length=2), remember: bool = Form(False), tags: list[str] = Form([])
) -> dict[str, Any]:
    return {"username": username, "remember": remember, "tags": tags}


def test_urlencoded_form(client_for: ClientFor, make_handler: MakeHandler) -> None:
    client = serve(client_for, make_handler, login)
    response = client.post("/f", data={"username": "ada", "remember": "on", "tags": ["a", "b"]})
    assert response.json() == {"username": "ada", "remember": True, "tags": ["a", "b"]}


def test_multipart_form_without_files(client_for: ClientFor, make_handler: MakeHandler) -> None:
    client = serve(client_for, make_handler, login)
    response = client.post("/f", data={"username": "ada"}, files={"unused": ("x.txt", b"x")})
    assert response.json() == {"username": "ada", "remember": False, "tags": []}


def test_form_errors_are_in_the_body(client_for: ClientFor, make_handler: MakeHandler) -> None:
    client = serve(client_for, make_handler, login)
    errors = detail(client.post("/f", data={"username": "a", "remember": "perhaps"}))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["body", "username"], "string_too_short"),
        (["body", "remember"], "bool_parsing"),
    ]
    assert detail(client.post("/f"))[0] == {
        "type": "missing",
        "loc": ["body", "username"],
        "msg": "Field required",
        "input": None,
    }


def test_an_empty_optional_form_field_takes_its_default(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(age: int | None = Form(None), name: str = Form("x")) -> list[Any]:
        return [age, name]

    client = serve(client_for, make_handler, handler)
    assert client.post("/f", data={"age": "", "name": ""}).json() == [None, "x"]
    assert client.post("/f", data={"age": "3", "name": "y"}).json() == [3, "y"]


def test_a_form_handler_refuses_json(client_for: ClientFor, make_handler: MakeHandler) -> None:
    client = serve(client_for, make_handler, login)
    response = client.post("/f", json={"username": "ada"})
    assert response.status_code == 415
    assert "form" in response.json()["detail"]


def test_a_malformed_multipart_body_is_400(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    client = serve(client_for, make_handler, login)
    response = client.post(
        "/f", content=b"garbage", headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 400


def upload(
    file: UploadFile,
    extra: list[UploadFile] = File([]),
    note: str = Form(""),
) -> dict[str, Any]:
    return {
        "name": file.filename,
        "type": file.content_type,
        "data": file.read().decode(),
        "size": file.size,
        "extra": [f.filename for f in extra],
        "note": note,
    }


async def upload_async(
    file: UploadFile,
    extra: list[UploadFile] = File([]),
    note: str = Form(""),
) -> dict[str, Any]:
    return {
        "name": file.filename,
        "type": file.content_type,
        "data": (await file.read()).decode(),  # in the thread pool: never blocks the loop
        "size": file.size,
        "extra": [f.filename for f in extra],
        "note": note,
    }


def test_an_uploadfile_is_a_file_field(client_for: ClientFor, handler_kind: str) -> None:
    app = App()
    app.post("/f")(upload if handler_kind == "sync" else upload_async)
    client = client_for(app)
    response = client.post(
        "/f",
        files=[
            ("file", ("a.txt", b"hello", "text/plain")),
            ("extra", ("b.bin", b"1")),
            ("extra", ("c.bin", b"2")),
        ],
        data={"note": "n"},
    )
    assert response.json() == {
        "name": "a.txt",
        "type": "text/plain",
        "data": "hello",
        "size": 5,
        "extra": ["b.bin", "c.bin"],
        "note": "n",
    }


def test_a_missing_or_textual_file_is_refused(client_for: ClientFor, handler_kind: str) -> None:
    app = App()
    app.post("/f")(upload if handler_kind == "sync" else upload_async)
    client = client_for(app)
    assert [e["loc"] for e in detail(client.post("/f", data={"note": "n"}))] == [["body", "file"]]
    [error] = detail(client.post("/f", data={"file": "just text"}))
    assert (error["loc"], error["type"], error["input"]) == (
        ["body", "file"],
        "upload_file",
        "just text",
    )


def test_file_as_bytes(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(data: bytes = File(), maybe: bytes | None = File(None)) -> list[Any]:
        return [data.decode(), maybe]

    client = serve(client_for, make_handler, handler)
    response = client.post("/f", files={"data": ("d.txt", b"content")})
    assert response.json() == ["content", None]


def test_file_max_size(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def handler(file: UploadFile = File(max_size="1KB")) -> int:
        return file.size

    client = serve(client_for, make_handler, handler)
    assert client.post("/f", files={"file": ("ok", b"x" * 1024)}).json() == 1024
    response = client.post("/f", files={"file": ("big", b"x" * 1025)})
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]


@pytest.mark.parametrize("size", ["50MB", "50 mb", "1.5KiB", 7])
def test_max_size_spellings(size: Any) -> None:
    marker = File(max_size=size)
    assert (
        marker.max_size == {"50MB": 50 * 1024**2, "50 mb": 50 * 1024**2, "1.5KiB": 1536, 7: 7}[size]
    )
