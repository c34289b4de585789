"""Real-server fixtures: apps started as subprocesses on 127.0.0.1, one per server path.

Each app in `apps/` ends with `app.listen(...)` under `if __name__ == "__main__"`, so these
tests also exercise `listen()` from a `__main__` script. Every process started here is
stopped in a `finally` (SIGINT, then SIGKILL if it will not stop) and its exit code checked.

The `basic` app is started lazily, once per server path per session, and shared: pytest-randomly
shuffles tests, so a parametrised module-scoped fixture would start servers again and again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).parents[2]

#: id -> (server, interface): every way `listen()` / `ambi run` can serve an app.
SERVER_PATHS: dict[str, tuple[str, str]] = {
    "granian-rsgi": ("granian", "rsgi"),
    "granian-asgi": ("granian", "asgi"),
    "uvicorn-asgi": ("uvicorn", "asgi"),
}

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A server subprocess and where its output goes."""

    proc: subprocess.Popen[bytes]
    port: int
    out_path: Path
    err_path: Path
    marker: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def describe(self) -> str:
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"

    def wait_ready(self, timeout: float = READY_TIMEOUT, path: str = "/") -> None:
        """Poll until the server answers HTTP (any status); fail if it dies first."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"server exited with {self.proc.returncode} before answering\n"
                        + self.describe()
                    )
                with contextlib.suppress(httpx.TransportError):
                    client.get(path)
                    return
                time.sleep(0.05)
        raise AssertionError(f"server did not answer within {timeout} s\n" + self.describe())

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to end by itself; kill it (and fail) after `timeout`."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"server still running {timeout} s later; killed\n" + self.describe()
            ) from None

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> int:
        """Send `sig` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def kill(self) -> None:
        """Last resort: SIGKILL the process group, workers included (even those a dead
        main process left behind)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


def start_process(
    argv: Sequence[str],
    port: int,
    out_dir: Path,
    *,
    name: str = "server",
    ready: bool = True,
    ready_path: str = "/",
    cwd: Path = ROOT,
) -> ServerProcess:
    """Start `argv` (in its own process group, so a crash-kill takes its workers too)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = out_dir / f"{name}.out", out_dir / f"{name}.err"
    marker = out_dir / f"{name}.shutdown"
    env = dict(os.environ, AMBI_TEST_MARKER=str(marker), PYTHONUNBUFFERED="1")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True
        )
    server = ServerProcess(proc, port, out_path, err_path, marker)
    if ready:
        try:
            server.wait_ready(path=ready_path)
        except BaseException:
            server.kill()
            raise
    return server


def answers_until_exit(server: ServerProcess, timeout: float = 15.0) -> list[int]:
    """Keep asking `server` for `/` until it exits; the statuses of the answers it gave."""
    answered: list[int] = []
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base_url, timeout=0.5) as client:
        while server.proc.poll() is None and time.monotonic() < deadline:
            try:
                answered.append(client.get("/").status_code)
            except httpx.TransportError:
                time.sleep(0.02)
    return answered


def app_argv(app: str, port: int, server_path: str) -> list[str]:
    """The command running `apps/<app>.py` as `__main__` on `port` over `server_path`."""
    server, interface = SERVER_PATHS[server_path]
    return [sys.executable, str(APPS / f"{app}.py"), str(port), server, interface]


StartApp = Callable[..., ServerProcess]


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[StartApp]:
    """For tests that own their server: `start_app("basic", "uvicorn-asgi")` runs
    `apps/basic.py` as `__main__`; `start_app("name", argv=[...], port=N)` runs any command.

    Whatever the test does, every process started here is stopped (SIGINT, then SIGKILL)
    when the test ends.
    """
    started: list[ServerProcess] = []

    def start(
        app: str,
        server_path: str = "granian-rsgi",
        *,
        argv: Sequence[str] | None = None,
        port: int | None = None,
        ready: bool = True,
        ready_path: str = "/",
        cwd: Path = ROOT,
    ) -> ServerProcess:
        port = port or free_port()
        command = argv if argv is not None else app_argv(app, port, server_path)
        name = f"{app}-{len(started)}"
        server = start_process(
            command, port, tmp_path, name=name, ready=ready, ready_path=ready_path, cwd=cwd
        )
        started.append(server)
        return server

    yield start
    for server in started:
        # stop() kills what will not stop; the test's own assertions say more than this one
        with contextlib.suppress(AssertionError):
            server.stop(signal.SIGINT, timeout=5)
        server.kill()


class ServerPool:
    """The `basic` app, started on first use for each server path and kept for the session."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.servers: dict[str, ServerProcess] = {}

    def get(self, server_path: str) -> ServerProcess:
        server = self.servers.get(server_path)
        if server is None:
            port = free_port()
            server = start_process(
                app_argv("basic", port, server_path),
                port,
                self.out_dir,
                name=f"basic-{server_path}",
                ready_path="/async/ping",
            )
            self.servers[server_path] = server
        elif server.proc.poll() is not None:
            raise AssertionError(
                f"the shared {server_path} server died (exit {server.proc.returncode})\n"
                + server.describe()
            )
        return server

    def close(self) -> list[str]:
        """Stop every server with SIGINT; the problems found (bad exit, no shutdown hook)."""
        problems: list[str] = []
        for server_path, server in self.servers.items():
            try:
                code = server.stop(signal.SIGINT)
            except AssertionError as exc:  # it would not stop, and was killed
                problems.append(f"{server_path}: {exc}")
                continue
            server.kill()  # any worker left behind
            if code != 0:
                problems.append(f"{server_path}: exit code {code}\n{server.describe()}")
            elif not server.marker.exists():
                problems.append(f"{server_path}: shutdown hook did not run\n{server.describe()}")
        return problems


@pytest.fixture(scope="session")
def server_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path_factory.mktemp("servers"))
    try:
        yield pool
    finally:
        problems = pool.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(params=list(SERVER_PATHS))
def server_path(request: pytest.FixtureRequest) -> str:
    """Which server and interface a test runs against ("granian-rsgi", ...)."""
    return str(request.param)


@pytest.fixture
def live(server_pool: ServerPool, server_path: str) -> ServerProcess:
    """The shared `basic` app served over `server_path`."""
    return server_pool.get(server_path)


@pytest.fixture
def base_url(live: ServerProcess) -> str:
    return live.base_url
