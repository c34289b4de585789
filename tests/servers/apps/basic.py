"""The app most real-server tests run: sync and async routes side by side.

Started as a script by `tests/servers/conftest.py`:
    python basic.py PORT [SERVER] [INTERFACE]
so that `App.listen()` is exercised from a `__main__` module. `AMBI_TEST_MARKER` names a
file the shutdown hook writes, to prove the hook ran.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from ambi import App, BackgroundTasks, HTTPException, Request, StreamingResponse

#: short, so that the slow-sender tests end quickly (tests/servers/test_hostile_clients.py)
BODY_TIMEOUT = 1.5

app = App(max_body_size=1024, body_timeout=BODY_TIMEOUT)

#: tokens of the bodies `/record/{token}` received in full (or thought it did)
RECORDS: list[str] = []


class Teapot(Exception):
    """An application error with its own exception handler."""


@app.exception_handler(Teapot)
def teapot_handler(request: Request, exc: Teapot) -> Any:
    return {"detail": str(exc), "method": request.method}, 418


class FakeDB:
    """What a startup hook would connect to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    async def close(self) -> None:
        await asyncio.sleep(0)
        self.closed = True


@app.on_event("startup")
async def connect() -> None:
    await asyncio.sleep(0.01)
    app.db = FakeDB("primary")  # type: ignore[attr-defined]  # the Cello spelling
    app.state.cache = {"warm": True}


@app.on_event("startup")
def sync_startup() -> None:
    app.state.sync_hook_ran = True


@app.on_event("shutdown")
async def disconnect() -> None:
    await app.db.close()  # type: ignore[attr-defined]


@app.on_event("shutdown")
def write_marker() -> None:
    marker = os.environ.get("AMBI_TEST_MARKER")
    if marker:
        with open(marker, "a", encoding="utf-8") as f:
            f.write(f"shutdown {os.getpid()}\n")


def _delay(request: Request) -> float:
    return float(request.query_params.get("d", "0.5"))


@app.get("/sync/sleep")
def sync_sleep(request: Request) -> Any:
    time.sleep(_delay(request))
    return {"kind": "sync"}


@app.get("/async/sleep")
async def async_sleep(request: Request) -> Any:
    await asyncio.sleep(_delay(request))
    return {"kind": "async"}


@app.get("/sync/ping")
def sync_ping(request: Request) -> Any:
    return {"pong": "sync", "client": request.client}


@app.get("/async/ping")
async def async_ping(request: Request) -> Any:
    return {"pong": "async", "client": request.client}


def _raise(kind: str, what: str) -> None:
    if what == "http":
        raise HTTPException(409, f"conflict from {kind}", headers={"x-conflict": "yes"})
    if what == "custom":
        raise Teapot("short and stout")
    raise RuntimeError("secret internals: password=hunter2")


@app.get("/sync/fail/{what}")
def sync_fail(request: Request) -> Any:
    _raise("handler", request.path_params["what"])


@app.get("/async/fail/{what}")
async def async_fail(request: Request) -> Any:
    _raise("handler", request.path_params["what"])


@app.get("/sync/state")
def sync_state(request: Request) -> Any:
    return {
        "db": request.app.db.name,
        "cache": app.state.cache,
        "sync_hook_ran": app.state.sync_hook_ran,
    }


@app.get("/async/state")
async def async_state(request: Request) -> Any:
    return {
        "db": request.app.db.name,
        "cache": app.state.cache,
        "sync_hook_ran": app.state.sync_hook_ran,
    }


@app.post("/json")
def echo_json(request: Request) -> Any:
    return {"got": request.json(), "client": request.client}


@app.post("/async/json")
async def async_echo_json(request: Request) -> Any:
    return {"got": request.json(), "client": request.client}


@app.post("/size")
async def body_size(request: Request) -> Any:
    return {"size": len(request.body)}


@app.get("/echo/{name}")
async def echo(request: Request) -> Any:
    return {
        "name": request.path_params["name"],
        "path": request.path,
        "query": dict(request.query_params),
    }


@app.get("/stream")
async def stream(request: Request) -> Any:
    async def chunks() -> Any:
        for i in range(3):
            await asyncio.sleep(0.01)
            yield f"chunk {i}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


@app.post("/record/{token}")
async def record(request: Request) -> Any:
    RECORDS.append(request.path_params["token"])
    return {"size": len(request.body)}


@app.post("/stream-record/{token}", stream_body=True)
async def stream_record(request: Request) -> Any:
    """Records `token` once the streamed body has ended (the handler commits)."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    RECORDS.append(request.path_params["token"])
    return {"size": size}


@app.get("/url")
def url(request: Request) -> Any:
    return {"url": request.url, "path": request.url.path, "host": request.headers.get("host")}


@app.get("/header/{name}")
def header(request: Request) -> Any:
    return {"value": request.headers.get(request.path_params["name"])}


@app.get("/records")
def records(request: Request) -> Any:
    return RECORDS


def _slow_record(token: str) -> None:
    time.sleep(2.0)
    RECORDS.append(token)


async def _slow_record_async(token: str) -> None:
    await asyncio.sleep(2.0)
    RECORDS.append(token)


@app.get("/background/{kind}/{token}")
def background(request: Request, tasks: BackgroundTasks) -> Any:
    """A 2 s background task (sync or async) that records `token` when it is done."""
    task = _slow_record if request.path_params["kind"] == "sync" else _slow_record_async
    tasks.add_task(task, request.path_params["token"])
    return {"queued": request.path_params["token"]}


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
