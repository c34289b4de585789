import asyncio
import dataclasses
import threading
from pathlib import Path

import pytest

from ambi import (
    App,
    BaseModel,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)


class Item(BaseModel):
    name: str
    price: float


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_return_values_are_normalised(client_for, make_handler) -> None:
    app = App()
    app.get("/dict")(make_handler(lambda: {"a": 1}))
    app.get("/list")(make_handler(lambda: [1, 2]))
    app.get("/model")(make_handler(lambda: Item(name="x", price=1.5)))
    app.get("/dataclass")(make_handler(lambda: Point(1, 2)))
    app.get("/str")(make_handler(lambda: "text"))
    app.get("/bytes")(make_handler(lambda: b"\x00\x01"))
    app.get("/none")(make_handler(lambda: None))
    app.get("/tuple2")(make_handler(lambda: ({"created": True}, 201)))
    app.get("/tuple3")(make_handler(lambda: ("hi", 202, {"x-extra": "1"})))
    client = client_for(app)

    def check(path: str, status: int, content_type: str, body: bytes) -> None:
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"] == content_type, path
        assert response.content == body, path

    check("/dict", 200, "application/json", b'{"a":1}')
    check("/list", 200, "application/json", b"[1,2]")
    check("/model", 200, "application/json", b'{"name":"x","price":1.5}')
    check("/dataclass", 200, "application/json", b'{"x":1,"y":2}')
    check("/str", 200, "text/plain; charset=utf-8", b"text")
    check("/bytes", 200, "application/octet-stream", b"\x00\x01")
    check("/none", 200, "application/json", b"null")
    check("/tuple2", 201, "application/json", b'{"created":true}')
    check("/tuple3", 202, "text/plain; charset=utf-8", b"hi")
    assert client.get("/tuple3").headers["x-extra"] == "1"


def test_response_classes(client_for, make_handler) -> None:
    app = App()
    app.get("/json")(
        make_handler(lambda: JSONResponse({"a": 1}, status_code=201, headers={"X-A": "b"}))
    )
    app.get("/cello")(make_handler(lambda: Response.json({"order_id": 1}, status=201)))
    app.get("/html")(make_handler(lambda: HTMLResponse("<h1>hi</h1>")))
    app.get("/text")(make_handler(lambda: PlainTextResponse("plain", status_code=418)))
    app.get("/redirect")(make_handler(lambda: RedirectResponse("/json")))
    app.get("/empty")(make_handler(lambda: Response(status_code=204)))
    client = client_for(app)
    json_response = client.get("/json")
    assert (json_response.status_code, json_response.json()) == (201, {"a": 1})
    assert json_response.headers["x-a"] == "b"
    assert client.get("/cello").status_code == 201
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/text").status_code == 418
    redirect = client.get("/redirect", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/json")
    empty = client.get("/empty")
    assert empty.status_code == 204
    assert "content-length" not in empty.headers


def test_cookies(client_for) -> None:
    app = App()

    @app.get("/login")
    def login():
        response = JSONResponse({"ok": True})
        response.set_cookie("session", "abc", httponly=True, max_age=60)
        response.delete_cookie("old")
        return response

    response = client_for(app).get("/login")
    cookies = response.headers.get_list("set-cookie")
    assert any(
        c.startswith("session=abc") and "HttpOnly" in c and "Max-Age=60" in c for c in cookies
    )
    assert any(c.startswith("old=") and "Max-Age=0" in c for c in cookies)


def test_streaming_sync_iterable_runs_in_pool(client_for) -> None:
    app = App()
    threads: list[str] = []

    def produce():
        for i in range(3):
            threads.append(threading.current_thread().name)
            yield f"chunk{i};"

    app.get("/stream")(lambda: StreamingResponse(produce(), media_type="text/plain"))
    response = client_for(app).get("/stream")
    assert response.text == "chunk0;chunk1;chunk2;"
    assert len(threads) == 3
    assert all(name.startswith("ambi-worker") for name in threads)


def test_streaming_async_iterable(client_for) -> None:
    app = App()

    async def produce():
        for i in range(3):
            await asyncio.sleep(0)
            yield f"{i}".encode()

    @app.get("/stream")
    async def stream():
        return StreamingResponse(produce())

    client = client_for(app)
    assert client.get("/stream").content == b"012"
    assert client.head("/stream").content == b""


def test_file_response(client_for, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_bytes(b"a" * 200_000)
    app = App()
    app.get("/file")(lambda: FileResponse(target, filename="report.txt"))
    client = client_for(app)
    response = client.get("/file")
    assert response.content == b"a" * 200_000
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-length"] == "200000"
    assert "report.txt" in response.headers["content-disposition"]
    assert "etag" in response.headers
    head = client.head("/file")
    assert head.content == b""
    assert head.headers["content-length"] == "200000"


def test_missing_file_is_a_500_not_a_crash(client_for, tmp_path: Path) -> None:
    app = App()
    app.get("/file")(lambda: FileResponse(tmp_path / "nope.txt"))
    response = client_for(app, raise_server_exceptions=False).get("/file")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_json_handles_common_types(client_for) -> None:
    import datetime
    import decimal
    import uuid

    app = App()
    app.get("/types")(
        lambda: {
            "when": datetime.date(2026, 1, 2),
            "id": uuid.UUID(int=1),
            "amount": decimal.Decimal("1.5"),
            "tags": {"x"},
            "model": Item(name="n", price=2),
            1: "non-str key",
        }
    )
    assert client_for(app).get("/types").json() == {
        "when": "2026-01-02",
        "id": "00000000-0000-0000-0000-000000000001",
        "amount": 1.5,
        "tags": ["x"],
        "model": {"name": "n", "price": 2.0},
        "1": "non-str key",
    }


class _JSONSub(JSONResponse):
    """A subclass: made the general way (`Response.__init__`)."""


@pytest.mark.parametrize(
    ("content", "status", "headers"),
    [
        ({"a": [1, 2]}, 200, None),
        ([1, "x"], 201, None),
        (None, 404, {}),
        ({"a": 1}, 200, {"X-A": "1"}),
    ],
)
def test_the_usual_json_response_is_the_general_one(content, status, headers) -> None:
    fast = JSONResponse(content, status, headers)
    general = _JSONSub(content, status, headers)
    assert (fast.status_code, fast.body) == (general.status_code, general.body)
    assert fast.headers.items_list == general.headers.items_list
    assert fast.header_list() == general.header_list()
