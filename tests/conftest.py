"""Shared fixtures: every behaviour test runs over both server interfaces (ASGI, RSGI)
and, where it defines handlers, over both handler kinds (`def`, `async def`)."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from ambi import App
from ambi.testing import TestClient

# Property tests check behaviour, not speed (the benchmarks do that): no per-example
# deadline, which a loaded CI machine turns into failures that say nothing about ambi.
settings.register_profile(
    "ambi", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ambi")

#: How long the interpreter may take to exit once the tests are over.
EXIT_GRACE = 30.0
#: The tests' verdict, kept by `pytest_sessionfinish` for the exit guard.
_EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The suite ends by itself: if the process is still alive `EXIT_GRACE` seconds after
    pytest finished (a non-daemon thread a test left running, an exit hook waiting on
    something a test left behind), print every thread's stack, save the coverage data and
    exit with the tests' own verdict, instead of hanging until CI's time runs out with
    nothing to show. The stacks say which test to mend.

    The clock starts here, at pytest's very last hook, not at `pytest_sessionfinish`: the
    session's own cleanup (tmp_path's removal of old runs' directories, fixtures' teardown)
    runs after the first sessionfinish hook and may take long on a slow disk; that is
    pytest's work, not a hang."""
    exitstatus = config.stash.get(_EXIT_STATUS, 0)

    def guard() -> None:
        time.sleep(EXIT_GRACE)
        out = sys.__stderr__
        if out is not None:
            out.write(
                f"\nEXIT HANG: the test process was still alive {EXIT_GRACE:g} s after the "
                f"tests ended (their exit status: {exitstatus}); its threads:\n"
            )
            faulthandler.dump_traceback(file=out, all_threads=True)
            out.flush()
        with contextlib.suppress(Exception):
            import coverage

            running = coverage.Coverage.current()
            if running is not None:
                running.stop()
                running.save()
        os._exit(exitstatus)

    threading.Thread(target=guard, name="exit-guard", daemon=True).start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Keep the tests' verdict for the exit guard (`pytest_unconfigure`)."""
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.fixture(params=["asgi", "rsgi"])
def interface(request: pytest.FixtureRequest) -> str:
    """The server interface a test drives the app through."""
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
def handler_kind(request: pytest.FixtureRequest) -> str:
    """Whether the handlers a test registers are `def` or `async def`."""
    return str(request.param)


@pytest.fixture
def make_handler(handler_kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn a plain function into a handler of the current kind, keeping its signature.

    `make_handler(fn)` gives `fn` itself for "sync" and an `async def` wrapper with the same
    signature (and annotations) for "async".
    """

    def make(fn: Callable[..., Any]) -> Callable[..., Any]:
        if handler_kind == "sync":
            return fn

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return fn(*args, **kwargs)

        wrapper.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
        wrapper.__annotations__ = dict(fn.__annotations__)
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__module__ = fn.__module__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]  # resolves string annotations
        return wrapper

    return make


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def client_for(interface: str) -> Iterator[Callable[[App], TestClient]]:
    """`client_for(app)` gives a started TestClient over the current interface."""
    clients: list[TestClient] = []

    def make(app: App, **kwargs: Any) -> TestClient:
        client = TestClient(app, interface=interface, **kwargs)  # type: ignore[arg-type]
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The loopback Redis (db 0) for tests of Redis-backed features; they skip when it does
    not answer. Tests keep their keys under a prefix of their own."""
    if not _redis_answers():
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    return REDIS_URL
