"""`ambi routes`, `ambi version` and `python -m ambi` (serving with `ambi run` is tested in
tests/servers/)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import ambi
from ambi import App, Router
from ambi._route_table import route_rows
from ambi.cli import main

ROOT = Path(__file__).parents[1]

ROUTES_APP = """
from starlette.applications import Starlette
from ambi import App

app = App()
api = App()


@app.get("/")
def index():
    return "index"


@app.route("/items/{item_id:int}", methods=["GET", "PUT"])
async def item(item_id: int):
    return item_id


@app.post("/fast", run="inline")
def fast():
    return 1


@app.get("/heavy", run="process")
def heavy():
    return 2


@app.get("/threaded", run="thread")
def threaded():
    return 3


@api.get("/ping")
async def ping():
    return "pong"


@api.websocket("/api-ws")
async def not_served(websocket):
    await websocket.accept()


def member(websocket):
    return True


@app.websocket("/ws/{room}", guards=[member])
async def chat(websocket, room: str):
    await websocket.accept()


app.mount("/api", api)
app.mount_static("/static", ".")
app.mount("/legacy", Starlette())
"""


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    modules, path = set(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


@pytest.fixture
def routes_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_imports: None
) -> Callable[[], list[list[str]]]:
    """Run `ambi routes` on ROUTES_APP; the table's lines split into columns."""

    def run() -> list[list[str]]:
        module = tmp_path / f"routes_{uuid.uuid4().hex}.py"
        module.write_text(ROUTES_APP, encoding="utf-8")
        assert main(["routes", f"{module}:app"]) == 0
        lines = capsys.readouterr().out.splitlines()
        return [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in lines]

    return run


def test_routes_table(routes_of: Callable[[], list[list[str]]]) -> None:
    table = routes_of()
    assert table[0] == ["METHODS", "PATH", "HANDLER", "KIND", "GUARDS"]
    rows = {row[1]: row for row in table[1:]}
    name = next(iter(rows.values()))[2].rpartition(".")[0]  # the module's name
    assert rows["/"] == ["GET", "/", f"{name}.index", "sync (auto)", "-"]
    assert rows["/items/{item_id:int}"] == [
        "GET, PUT",
        "/items/{item_id:int}",
        f"{name}.item",
        "async (auto)",
        "-",
    ]
    assert rows["/fast"][3] == "inline"
    assert rows["/heavy"][3] == "process"
    assert rows["/threaded"][3] == "sync"
    assert rows["/api/ping"][2:4] == [f"{name}.ping", "async (auto)"]  # a mounted ambi app
    assert rows["/static/..."] == ["*", "/static/...", "StaticFiles(directory='.')", "mount", "-"]
    assert rows["/legacy/..."][2:4] == ["starlette.applications.Starlette", "mount"]
    assert rows["/ws/{room}"] == ["WEBSOCKET", "/ws/{room}", f"{name}.chat", "async", "member"]
    assert "/api/api-ws" not in rows  # mounted apps serve no websockets: not listed
    paths = [row[1] for row in table[1:]]
    assert paths.index("/threaded") < paths.index("/ws/{room}") < paths.index("/api/ping")
    assert [row[1] for row in table[1:6]] == [
        "/",
        "/items/{item_id:int}",
        "/fast",
        "/heavy",
        "/threaded",
    ]  # in registration order


def test_guards_column() -> None:
    """Guards are listed by name, the app's first."""

    class AdminOnly:
        def __call__(self, request: object) -> bool:
            return True

    def logged_in(request: object) -> bool:
        return True

    def audited(request: object) -> bool:
        return True

    router = Router()
    router.get("/admin", guards=[logged_in, AdminOnly()])(lambda: "x")
    router.get("/open")(lambda: "x")
    rows = route_rows(SimpleNamespace(routes=router.routes, _mounts=[], guards=[]))  # type: ignore[arg-type]
    assert [row.guards for row in rows] == ["logged_in, AdminOnly", "-"]
    app = App(guards=[audited])
    app.include_router(router)
    assert [row.guards for row in route_rows(app)] == ["audited, logged_in, AdminOnly", "audited"]


def test_routes_of_the_hello_example(capsys: pytest.CaptureFixture[str]) -> None:
    """`ambi routes examples.hello:app`, from the project folder, as the README says."""
    result = subprocess.run(
        [sys.executable, "-m", "ambi", "routes", "examples.hello:app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "HANDLER", "KIND", "GUARDS"]
    assert "examples.hello.sync_handler" in result.stdout
    assert any(line.split()[:2] == ["GET", "/hello/{name}"] for line in lines[1:])


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_here:app", "no module named 'no_such_module_here'"),
        ("examples.hello:nope", "module 'examples.hello' has no attribute 'nope'"),
        ("examples.hello:JSONResponse", "is a type, not an ambi App"),
        ("my-app:app", "neither a module name nor a .py file"),
    ],
)
def test_routes_of_a_wrong_target(target: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ambi", "routes", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("ambi routes: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ambi {ambi.__version__} (")
    assert "granian " in out
    assert out.count("\n") == 1


def test_python_m_ambi() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ambi", "version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(f"ambi {ambi.__version__}")
    usage = subprocess.run(
        [sys.executable, "-m", "ambi"], capture_output=True, text=True, timeout=60, check=False
    )
    assert usage.returncode == 2
    assert usage.stderr.startswith("usage: ambi")


def test_worker_with_a_wrong_target(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["worker", "no_such_module_here:app"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "ambi worker: error: 'no_such_module_here:app': no module named 'no_such_module_here' "
        f"(looked in {Path.cwd()} and on sys.path)\n"
    )
