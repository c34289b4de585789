"""`ambi run` argument handling, in process: targets, options, and the errors (exit 2)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ambi import App
from ambi.cli import Target, TargetError, load_app, main, parse_target

ROOT = Path(__file__).parents[2]


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Forget the modules and sys.path entries a test's imports add."""
    modules, path = set(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


@pytest.fixture
def write_module(tmp_path: Path, isolated_imports: None) -> Callable[[str], Path]:
    """`write_module(source)`: a .py file with a name no other test uses."""

    def write(source: str) -> Path:
        path = tmp_path / f"target_{uuid.uuid4().hex}.py"
        path.write_text(source, encoding="utf-8")
        return path

    return write


APP_SOURCE = "from ambi import App\napp = App()\nother = App()\nnot_an_app = 42\n"


def _run_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ambi run")
    return err


def _target_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """A TARGET naming nothing to serve: one line on stderr, exit 2, no usage text."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("ambi run: error: ")
    assert err.count("\n") == 1
    return err


# parse_target ------------------------------------------------------------------------------


def test_module_target(tmp_path: Path) -> None:
    target = parse_target("pkg.web:application", cwd=tmp_path)
    assert target == Target("pkg.web:application", "pkg.web", "application", str(tmp_path))
    assert target.import_string == "pkg.web:application"


def test_attribute_defaults_to_app(tmp_path: Path) -> None:
    assert parse_target("service", cwd=tmp_path).import_string == "service:app"


def test_file_target_imports_from_its_directory(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("", encoding="utf-8")
    target = parse_target("main.py:api.app", cwd=tmp_path)
    assert (target.module, target.attr, target.path_entry) == ("main", "api.app", str(tmp_path))
    assert target.file == tmp_path / "main.py"


def test_file_in_a_package_imports_as_a_package_module(tmp_path: Path) -> None:
    package = tmp_path / "src" / "shop" / "web"
    package.mkdir(parents=True)
    for directory in (package.parent, package):
        (directory / "__init__.py").write_text("", encoding="utf-8")
    (package / "app.py").write_text("", encoding="utf-8")
    target = parse_target("src/shop/web/app.py", cwd=tmp_path)
    assert target.import_string == "shop.web.app:app"
    assert target.path_entry == str(tmp_path / "src")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (":app", "expected module:attr"),
        ("mod:1app", "'1app' is not an attribute name"),
        ("mod:", "'' is not an attribute name"),
        ("my-mod:app", "neither a module name nor a .py file"),
        ("missing.py:app", "no such file"),
        ("sub/missing.py", "no such file"),
    ],
)
def test_malformed_targets(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        parse_target(spec, cwd=tmp_path)


def test_a_file_that_is_not_python(tmp_path: Path) -> None:
    (tmp_path / "app.txt").write_text("", encoding="utf-8")
    with pytest.raises(TargetError, match=r"'./app.txt' is not a .py file"):
        parse_target("./app.txt:app", cwd=tmp_path)


# load_app ----------------------------------------------------------------------------------


def test_load_app_from_a_file(write_module: Callable[[str], Path]) -> None:
    path = write_module(APP_SOURCE)
    app = load_app(parse_target(f"{path}:other"))
    assert isinstance(app, App)
    assert app is sys.modules[path.stem].other


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        ("nope", "has no attribute 'nope'"),
        ("not_an_app", "'not_an_app' is a int, not an ambi App"),
        ("App", "'App' is a type, not an ambi App"),
    ],
)
def test_load_app_refuses_what_is_not_an_app(
    write_module: Callable[[str], Path], attr: str, message: str
) -> None:
    path = write_module(APP_SOURCE)
    with pytest.raises(TargetError, match=message):
        load_app(parse_target(f"{path}:{attr}"))


def test_load_app_missing_module(tmp_path: Path, isolated_imports: None) -> None:
    with pytest.raises(TargetError, match="no module named 'no_such_module_here'"):
        load_app(parse_target("no_such_module_here:app", cwd=tmp_path))


def test_load_app_missing_submodule(tmp_path: Path, isolated_imports: None) -> None:
    with pytest.raises(TargetError, match=r"no module named 'json\.no_such_part'"):
        load_app(parse_target("json.no_such_part:app", cwd=tmp_path))


def test_an_import_error_inside_the_app_propagates(write_module: Callable[[str], Path]) -> None:
    """A dependency the app lacks is the app's bug: its traceback, not a usage message."""
    path = write_module("import a_dependency_nobody_installed\n")
    with pytest.raises(ModuleNotFoundError, match="a_dependency_nobody_installed"):
        load_app(parse_target(f"{path}:app"))


def test_a_file_shadowed_by_an_imported_module(tmp_path: Path, isolated_imports: None) -> None:
    (tmp_path / "json.py").write_text(APP_SOURCE, encoding="utf-8")
    with pytest.raises(TargetError, match=r"'json', a name already taken by .*; rename the file"):
        load_app(parse_target(f"{tmp_path / 'json.py'}:app"))


# main: usage errors exit 2 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "the following arguments are required: TARGET"),
        (("x:app", "--workers", "0"), "argument --workers: must be at least 1, got 0"),
        (("x:app", "--workers", "two"), "argument --workers: 'two' is not a whole number"),
        (("x:app", "--port", "70000"), "argument --port: 70000 is not a TCP port"),
        (("x:app", "--server", "gunicorn"), "argument --server: invalid choice: 'gunicorn'"),
        (("x:app", "--interface", "wsgi"), "argument --interface: invalid choice: 'wsgi'"),
        (("x:app", "--server", "uvicorn", "--interface", "rsgi"), "speaks ASGI only"),
        (("x:app", "--log-level", "loud"), "argument --log-level: invalid choice"),
    ],
)
def test_bad_options(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert message in _run_error(capsys, *argv)


def test_bad_targets(
    capsys: pytest.CaptureFixture[str], write_module: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_module(APP_SOURCE)
    assert "has no attribute 'nope'" in _target_error(capsys, f"{path}:nope")
    assert "is a int, not an ambi App" in _target_error(capsys, f"{path}:not_an_app")
    assert "no such file" in _target_error(capsys, f"{tmp_path / 'gone.py'}:app")
    missing = _target_error(capsys, "no_such_module_here:app")
    assert "no module named 'no_such_module_here'" in missing


def test_reload_checks_the_target_without_importing_it(
    capsys: pytest.CaptureFixture[str], isolated_imports: None
) -> None:
    message = _target_error(capsys, "no_such_module_here:app", "--reload", "--server", "uvicorn")
    assert "no module named 'no_such_module_here'" in message


def test_reload_with_granian_needs_watchfiles(
    capsys: pytest.CaptureFixture[str], write_module: Callable[[str], Path]
) -> None:
    pytest.importorskip("granian")
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("watchfiles is installed: Granian can reload")
    path = write_module(APP_SOURCE)
    assert "reload with Granian needs watchfiles" in _run_error(capsys, str(path), "--reload")
    assert path.stem not in sys.modules, "--reload must not import the app in the parent"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("ambi ")
