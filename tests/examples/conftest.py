"""Fixtures for the seed-document examples.

aiohttp is not a dependency of ambi. Two seed examples import it without using it
(`fetch_user_data`); the API-gateway example uses it to call `http://<service>.internal`,
which needs a network this test suite must not use. So, when aiohttp is not installed, a
stand-in module is registered under its name, and the gateway test replaces
`aiohttp.ClientSession` with `FakeClientSession`, which answers locally and records the
URL asked for.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

import pytest


class FakeResponse:
    def __init__(self, url: str) -> None:
        self.url = url

    async def json(self) -> dict[str, Any]:
        return {"proxied": self.url}

    async def __aenter__(self) -> FakeResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeClientSession:
    """`aiohttp.ClientSession` for tests: `get(url)` answers `{"proxied": url}`."""

    requested: list[str] = []  # noqa: RUF012 - a class-level log shared by instances

    async def __aenter__(self) -> FakeClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def get(self, url: str) -> FakeResponse:
        self.requested.append(url)
        return FakeResponse(url)


if importlib.util.find_spec("aiohttp") is None:
    stand_in = types.ModuleType("aiohttp")
    stand_in.ClientSession = FakeClientSession  # type: ignore[attr-defined]
    sys.modules["aiohttp"] = stand_in


@pytest.fixture
def fake_aiohttp(monkeypatch: pytest.MonkeyPatch) -> type[FakeClientSession]:
    """Route aiohttp.ClientSession to the local stand-in for one test."""
    import aiohttp

    FakeClientSession.requested = []
    monkeypatch.setattr(aiohttp, "ClientSession", FakeClientSession)
    return FakeClientSession
