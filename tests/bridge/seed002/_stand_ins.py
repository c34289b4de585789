"""Local stand-ins for what the seed-002 examples reach over the network or need a server
for: `httpx.AsyncClient` (patched in per test), and the `aiofiles` and `asyncpg` modules
(registered under their names when they are not installed). Each awaits, so the examples
really suspend on the loop the bridge chose."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import types
from collections.abc import AsyncIterator
from typing import Any

import httpx

#: What each path answers with, as JSON.
ROUTES: dict[str, Any] = {
    "/users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}],
    "/data": {"rows": [1, 2, 3]},
    "/test": {"status": "ok"},
}
CHUNKS = (b"PK\x03\x04", b"zip-", b"bytes")


class FakeResponse:
    def __init__(self, url: str) -> None:
        self.url = url

    def json(self) -> Any:
        path = httpx.URL(self.url).path
        if path.startswith("/item/"):
            return {"item": int(path.rsplit("/", 1)[1])}
        return ROUTES[path]


class FakeAsyncClient:
    """`httpx.AsyncClient` answering ROUTES locally; records the loops it ran on."""

    requested: list[str] = []  # noqa: RUF012 - a class-level log shared by instances
    loops: set[asyncio.AbstractEventLoop] = set()  # noqa: RUF012

    async def __aenter__(self) -> FakeAsyncClient:
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0)

    async def get(self, url: str) -> FakeResponse:
        await asyncio.sleep(0)
        self.requested.append(url)
        self.loops.add(asyncio.get_running_loop())
        return FakeResponse(url)

    async def stream(self, method: str, url: str) -> AsyncIterator[bytes]:
        # The document iterates `client.stream(...)` directly; real httpx would need
        # `async with client.stream(...) as response: async for chunk in response.aiter_bytes()`.
        self.requested.append(f"{method} {url}")
        for chunk in CHUNKS:
            await asyncio.sleep(0)
            yield chunk


class _AsyncFile:
    def __init__(self, path: str, mode: str) -> None:
        self._file = open(path, mode)  # noqa: SIM115 - closed in __aexit__

    async def __aenter__(self) -> _AsyncFile:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._file.close()

    async def write(self, data: bytes) -> int:
        await asyncio.sleep(0)
        return self._file.write(data)


class FakeConnection:
    executed: list[tuple[str, tuple[Any, ...]]] = []  # noqa: RUF012

    async def execute(self, query: str, *args: Any) -> str:
        await asyncio.sleep(0)
        self.executed.append((query, args))
        return "INSERT 0 1"

    async def close(self) -> None:
        await asyncio.sleep(0)


async def _connect(dsn: str) -> FakeConnection:
    await asyncio.sleep(0)
    return FakeConnection()


def _register(name: str, **attrs: Any) -> None:
    """A stand-in module when the library is not installed; when it is (the service
    extra brings asyncpg), `STAND_INS` says what each test patches on the real one."""
    if importlib.util.find_spec(name) is None and name not in sys.modules:
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module


#: (module, attribute, stand-in): the examples never reach a real file or database
STAND_INS = [("aiofiles", "open", _AsyncFile), ("asyncpg", "connect", _connect)]
for _name, _attribute, _stand_in in STAND_INS:
    _register(_name, **{_attribute: _stand_in})


def patch_httpx() -> None:
    """For a process that is not a pytest test (the multiprocessing example)."""
    httpx.AsyncClient = FakeAsyncClient  # type: ignore[misc, assignment]
