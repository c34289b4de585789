"""The contenders: which app, on which server, started with which command line.

Every contender runs as one worker process. Event loop and HTTP parser are chosen once per
run (`ServerOptions.detect`): uvloop when installed (else asyncio) for both servers, and
httptools when installed (else h11) for uvicorn, so that all contenders share a loop.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from benchmarks.servers import HOST

Server = Literal["granian", "uvicorn", "cello"]

#: A Python 3.12 with cello-framework 1.4.1, pydantic and orjson (benchmarks/README.md).
CELLO_PYTHON_ENV = "AMBI_BENCH_CELLO_PYTHON"


def cello_python() -> str:
    python = os.environ.get(CELLO_PYTHON_ENV)
    if not python:
        raise SystemExit(
            f"the cello contender needs {CELLO_PYTHON_ENV}: the python of a Python 3.12 venv "
            "with cello-framework==1.4.1, pydantic and orjson (benchmarks/README.md)"
        )
    return python


_VERSION_OF_CELLO = "import importlib.metadata as m; print(m.version('cello-framework'))"


@functools.cache
def cello_version() -> str:
    done = subprocess.run(
        [
            cello_python(),
            "-c",
            "import importlib.metadata as m; print(m.version('cello-framework'))",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.stdout.strip() or "not installed"


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
        if self.server == "cello":  # its own server (Rust), one worker
            return [
                *(cello_python(), "-m", self.app, "--host", HOST, "--port", str(port)),
                *("--workers", "1", "--env", "production", "--no-logs"),
            ]
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
        if self.server == "cello":
            return f"Cello {cello_version()} (its own server)"
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
        Contender(
            "ambi-metrics",
            "benchmarks.apps.ambi_variants:metrics_app",
            "granian",
            "rsgi",
            note="ambi with app.enable_metrics() on (issue 12's overhead, served)",
            default=False,
        ),
        Contender("starlette", "benchmarks.apps.starlette_app:app", "uvicorn", "asgi"),
        Contender(FASTAPI, "benchmarks.apps.fastapi_app:app", "uvicorn", "asgi"),
        Contender(
            "cello",
            "benchmarks.apps.cello_app",
            "cello",
            "asgi",
            note="cello-framework 1.4.1 on Python 3.12 (AMBI_BENCH_CELLO_PYTHON); no /deps*",
            default=bool(os.environ.get(CELLO_PYTHON_ENV)),
        ),
    )
}
