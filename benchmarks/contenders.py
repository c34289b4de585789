"""The contenders: which app, on which server, started with which command line.

Every contender runs as one worker process. Event loop and HTTP parser are chosen once per
run (`ServerOptions.detect`): uvloop when installed (else asyncio) for both servers, and
httptools when installed (else h11) for uvicorn, so that all contenders share a loop.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from benchmarks.servers import HOST

Server = Literal["granian", "uvicorn"]


@dataclass(frozen=True, slots=True)
class ServerOptions:
    loop: str
    http: str

    @classmethod
    def detect(cls) -> ServerOptions:
        def installed(name: str) -> bool:
            return importlib.util.find_spec(name) is not None

        return cls(
            loop="uvloop" if installed("uvloop") else "asyncio",
            http="httptools" if installed("httptools") else "h11",
        )


@dataclass(frozen=True, slots=True)
class Contender:
    name: str
    app: str
    server: Server
    interface: Literal["rsgi", "asgi"]
    note: str = ""
    #: part of a run that names no contenders (the A/B variants run only when named)
    default: bool = True

    def argv(self, port: int, options: ServerOptions) -> list[str]:
        if self.server == "granian":
            return [
                *(sys.executable, "-m", "granian", self.app),
                *("--interface", self.interface, "--host", HOST, "--port", str(port)),
                *("--workers", "1", "--loop", options.loop, "--http", "1"),
                *("--no-ws", "--no-access-log", "--log-level", "warning"),
            ]
        return [
            *(sys.executable, "-m", "uvicorn", self.app),
            *("--host", HOST, "--port", str(port), "--workers", "1"),
            *("--loop", options.loop, "--http", options.http),
            *("--no-access-log", "--log-level", "warning"),
        ]

    def describe(self, options: ServerOptions) -> str:
        """E.g. "Granian 2.8.7 rsgi" or "uvicorn 0.54.0 (httptools)"."""
        if self.server == "granian":
            return f"Granian {package_version('granian')} {self.interface}"
        return f"uvicorn {package_version('uvicorn')} ({options.http})"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


BARE_RSGI = "bare-rsgi"
FASTAPI = "fastapi"

CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in (
        Contender(
            BARE_RSGI,
            "benchmarks.apps.bare_rsgi:app",
            "granian",
            "rsgi",
            note="hand-written RSGI; the ceiling (its /sync-json runs inline, no thread pool)",
        ),
        Contender(
            "bare-asgi-granian",
            "benchmarks.apps.bare_asgi:app",
            "granian",
            "asgi",
            note="hand-written ASGI (/sync-json inline)",
        ),
        Contender(
            "bare-asgi-uvicorn",
            "benchmarks.apps.bare_asgi:app",
            "uvicorn",
            "asgi",
            note="hand-written ASGI (/sync-json inline)",
        ),
        Contender("ambi", "benchmarks.apps.ambi_app:app", "granian", "rsgi"),
        Contender("ambi-asgi", "benchmarks.apps.ambi_app:app", "granian", "asgi"),
        Contender(
            "ambi-mw",
            "benchmarks.apps.ambi_mw_app:app",
            "granian",
            "rsgi",
            note="the ambi app with CORS + request id + security headers on",
        ),
        Contender(
            "ambi-pool",
            "benchmarks.apps.ambi_variants:pool_app",
            "granian",
            "rsgi",
            note="ambi with adaptive inline off: def handlers always in the thread pool",
            default=False,
        ),
        Contender(
            "ambi-nowatch",
            "benchmarks.apps.ambi_variants:nowatch_app",
            "granian",
            "rsgi",
            note="ambi with the loop-blocking detector off",
            default=False,
        ),
        Contender("starlette", "benchmarks.apps.starlette_app:app", "uvicorn", "asgi"),
        Contender(FASTAPI, "benchmarks.apps.fastapi_app:app", "uvicorn", "asgi"),
    )
}
