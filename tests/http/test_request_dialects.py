"""The request body in both dialects, on one request object: Cello/Catzilla's
(`request.body` bytes, `request.json()`, `request.form()`) in `def` and `async def`
handlers, and Starlette/FastAPI's (`await request.body()`, `await request.json()`,
`await request.form()`), over ASGI and RSGI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, Request
from ambi.http._awaitable import AwaitableDict, Ready, RequestBody, awaited_by_caller
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]

BODIES = [
    {"a": 1, "b": [1, 2]},
    [1, "two", None],
    "text",
    7,
    2.5,
    True,
    False,
    None,
]


def cello(request: Request) -> dict[str, Any]:
    data = request.json()
    return {
        "bytes": isinstance(request.body, bytes),
        "text": request.body.decode() if request.body else "",
        "data": data,
        "same": request.json() is data,
    }


async def cello_async(request: Request) -> dict[str, Any]:
    return cello(request)


async def starlette(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = await request.json()
    return {"bytes": isinstance(raw, bytes), "text": raw.decode(), "data": data, "same": True}


@pytest.mark.parametrize("body", BODIES, ids=json.dumps)
@pytest.mark.parametrize("dialect", ["cello-def", "cello-async", "starlette"])
def test_json_body_in_both_dialects(client_for: ClientFor, dialect: str, body: Any) -> None:
    handler = {"cello-def": cello, "cello-async": cello_async, "starlette": starlette}[dialect]
    app = App()
    app.post("/echo")(handler)
    text = json.dumps(body)
    response = client_for(app).post(
        "/echo", content=text, headers={"content-type": "application/json"}
    )
    assert response.json() == {"bytes": True, "text": text, "data": body, "same": True}


def test_the_values_are_their_types(client_for: ClientFor) -> None:
    app = App()

    @app.post("/types")
    async def types(request: Request) -> list[str]:
        data = request.json()
        awaited = await request.json()
        body = request.body
        return [
            type(data).__name__,  # a dict subclass
            str(isinstance(data, dict)),
            str(awaited is data),
            str(await body() is body),
            str(body == b'{"k": 1}'),
        ]

    response = client_for(app).post("/types", content=b'{"k": 1}')
    assert response.json() == ["AwaitableDict", "True", "True", "True", "True"]


def test_form_in_both_dialects(client_for: ClientFor) -> None:
    app = App()

    @app.post("/def")
    def form_def(request: Request) -> dict[str, Any]:
        return dict(request.form())

    @app.post("/await")
    async def form_await(request: Request) -> dict[str, Any]:
        form = await request.form()
        await form.close()
        return dict(form)

    @app.post("/with")
    async def form_with(request: Request) -> dict[str, Any]:
        async with request.form() as form:
            return dict(form)

    client = client_for(app)
    for path in ("/def", "/await", "/with"):
        assert client.post(path, data={"a": "1", "b": "x"}).json() == {"a": "1", "b": "x"}


def test_a_streamed_route_reads_the_body_when_awaited(client_for: ClientFor) -> None:
    app = App()

    @app.post("/raw", stream_body=True)
    async def raw(request: Request) -> dict[str, Any]:
        before = bytes(request.body)  # not read yet: empty
        body = await request.body()
        return {"before": before.decode(), "after": body.decode(), "json": request.json()}

    @app.post("/json", stream_body=True)
    async def streamed_json(request: Request) -> Any:
        return await request.json()

    @app.post("/form", stream_body=True)
    async def streamed_form(request: Request) -> Any:
        async with request.form() as form:
            return dict(form)

    @app.post("/form-await", stream_body=True)
    async def streamed_form_await(request: Request) -> Any:
        return dict(await request.form())

    client = client_for(app)
    assert client.post("/raw", json={"x": 1}).json() == {
        "before": "",
        "after": '{"x":1}',
        "json": {"x": 1},
    }
    assert client.post("/json", json=[1, 2]).json() == [1, 2]
    assert client.post("/form", data={"a": "b"}).json() == {"a": "b"}
    assert client.post("/form-await", data={"a": "c"}).json() == {"a": "c"}


def test_bad_bodies_are_400s_in_both_dialects(client_for: ClientFor) -> None:
    app = App()
    app.post("/cello")(cello)
    app.post("/starlette")(starlette)
    client = client_for(app)
    for path in ("/cello", "/starlette"):
        empty = client.post(path)
        assert (empty.status_code, empty.json()) == (
            400,
            {"detail": "expected a JSON body, got an empty one"},
        )
        malformed = client.post(path, content=b"{nope")
        assert malformed.status_code == 400
        assert malformed.json()["detail"].startswith("malformed JSON body")


def test_client_address(client_for: ClientFor, make_handler: Callable[..., Any]) -> None:
    app = App()

    def address(request: Request) -> list[Any]:
        client = request.client
        assert client is not None
        host, port = client
        return [client.host, client.port, host, port, tuple(client) == (host, port)]

    app.get("/who")(make_handler(address))
    assert client_for(app).get("/who").json() == ["testclient", 50000, "testclient", 50000, True]


# The pieces -----------------------------------------------------------------------------


def test_request_body_is_bytes_and_an_awaitable_call() -> None:
    body = RequestBody(b"abc")
    assert body == b"abc"
    assert isinstance(body, bytes)
    assert body.decode() == "abc"
    awaitable = body()
    assert isinstance(awaitable, Ready)
    with pytest.raises(StopIteration) as done:
        awaitable.__await__().send(None)
    assert done.value.value is body
    body()  # never awaited: no "coroutine was never awaited" warning (no coroutine)


class _Probe:
    def json(self) -> Any:
        return Ready("awaited") if awaited_by_caller(1) else "plain"


async def test_awaited_by_caller_sees_await_at_the_call_site() -> None:
    probe = _Probe()
    assert await probe.json() == "awaited"
    assert await probe.json() == "awaited"
    assert [await probe.json(), probe.json()] == ["awaited", "plain"]
    assert probe.json() == "plain"
    stored = probe.json()  # awaited later: not seen, the plain value
    assert stored == "plain"


def test_awaited_by_caller_is_false_in_plain_functions() -> None:
    assert _Probe().json() == "plain"


async def test_a_dict_body_can_be_stored_and_awaited_later() -> None:
    value = AwaitableDict({"a": 1})
    stored = value
    assert await stored is value
