"""`ambi run` serving for real: the console script, file and module targets, several
workers, reload, and a usage error from the installed entry point."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, SERVER_PATHS, StartApp, answers_until_exit, free_port

pytestmark = pytest.mark.server

BASIC = "tests/servers/apps/basic.py"


def ambi_command() -> list[str]:
    """The installed `ambi` console script (the real entry point), else `python -m`."""
    script = shutil.which("ambi", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "ambi.cli"]


def ambi_run(target: str, port: int, *options: str) -> list[str]:
    return [*ambi_command(), "run", target, "--port", str(port), *options]


def _state(base_url: str) -> dict[str, object]:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        response = client.get("/async/state")
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


@pytest.mark.parametrize("target", [f"{BASIC}:app", BASIC, "tests.servers.apps.basic:app"])
def test_run_a_target(start_app: StartApp, target: str) -> None:
    port = free_port()
    server = start_app("cli", argv=ambi_run(target, port), port=port, ready_path="/async/ping")
    assert _state(server.base_url)["db"] == "primary"
    assert f"ambi: serving on {server.base_url} (granian, RSGI, 1 worker)" in server.stdout
    assert server.stop(signal.SIGINT) == 0, server.describe()
    assert server.marker.exists(), server.describe()


@pytest.mark.parametrize("server_path", list(SERVER_PATHS))
def test_run_two_workers(start_app: StartApp, server_path: str) -> None:
    """Both workers start, run the startup hooks, serve, and run the shutdown hooks."""
    server_name, interface = SERVER_PATHS[server_path]
    port = free_port()
    argv = ambi_run(f"{BASIC}:app", port, "--workers", "2", "--server", server_name)
    argv += ["--interface", interface]
    server = start_app("cli2", argv=argv, port=port, ready_path="/async/ping")
    for _ in range(10):
        assert _state(server.base_url)["db"] == "primary"
    announced = f"({server_name}, {interface.upper()}, 2 workers)"
    assert announced in server.stdout, server.describe()
    assert server.stop(signal.SIGTERM) == 0, server.describe()
    pids = set(re.findall(r"^shutdown (\d+)$", server.marker.read_text(), re.M))
    assert len(pids) == 2, "each worker runs the shutdown hooks\n" + server.describe()


@pytest.mark.parametrize("server_path", list(SERVER_PATHS))
def test_failing_startup_with_two_workers(start_app: StartApp, server_path: str) -> None:
    """Every server stops, and exits non-zero, when its workers cannot start."""
    server_name, interface = SERVER_PATHS[server_path]
    port = free_port()
    argv = ambi_run("tests/servers/apps/bad_startup.py", port, "--workers", "2")
    argv += ["--server", server_name, "--interface", interface]
    server = start_app("bad2", argv=argv, port=port, ready=False)
    answered = answers_until_exit(server)
    code = server.wait(timeout=1)
    assert code != 0, server.describe()
    assert answered == [], server.describe()
    assert "database unreachable at db.invalid:5432" in server.stderr


def test_reload_with_uvicorn(start_app: StartApp, tmp_path: Path) -> None:
    """An edit to the app file is served without a restart."""
    app_file = tmp_path / "reloadable_app.py"
    source = "from ambi import App\napp = App()\n\n@app.get('/')\ndef index():\n    return {}\n"
    app_file.write_text(source.replace("{}", '{"version": 1}'), encoding="utf-8")
    port = free_port()
    argv = ambi_run(str(app_file), port, "--reload", "--server", "uvicorn")
    # uvicorn watches its working directory: run it from the app's directory
    server = start_app("reload", argv=argv, port=port, cwd=tmp_path)
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        assert client.get("/").json() == {"version": 1}
        time.sleep(0.3)  # let StatReload record the file's mtime
        app_file.write_text(source.replace("{}", '{"version": 2}'), encoding="utf-8")
        deadline = time.monotonic() + 15
        seen = None
        while time.monotonic() < deadline:
            try:
                seen = client.get("/").json()
            except httpx.TransportError:
                seen = None
            if seen == {"version": 2}:
                break
            time.sleep(0.1)
    assert seen == {"version": 2}, server.describe()
    assert server.stop(signal.SIGINT) == 0, server.describe()


def test_usage_error_from_the_console_script() -> None:
    result = subprocess.run(
        [*ambi_command(), "run", f"{BASIC}:nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "ambi run: error:" in result.stderr
    assert "module 'basic' has no attribute 'nope'" in result.stderr
    assert result.stdout == ""
