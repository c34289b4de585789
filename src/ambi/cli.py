"""The `ambi` command (also `python -m ambi`).

```
ambi run TARGET [--host H] [--port N] [--workers N] [--reload]
                [--server granian|uvicorn] [--interface rsgi|asgi]
                [--log-level LEVEL] [--access-log]
ambi worker TARGET [--log-level LEVEL]     (tasks of a distributed task queue)
ambi routes TARGET      the app's routes, websocket routes and mounts: methods, path,
                        handler, kind, guards
ambi version            the versions of ambi, Python and Granian
```

TARGET is `module:attr` (the module found from the current directory, as `python -m`
would) or `path/to/file.py:attr`; `:attr` defaults to `:app`. The app is imported here
first, so a wrong target is a one-line error (exit 2) before any server starts; then the
server gets the same target as an import string, to import it itself in each worker.
With `--reload` the app is not imported here (workers forked from a process holding the
old code would never see a change): the target is only checked to exist.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn

from . import __version__
from ._route_table import format_table, route_rows
from .app import App
from .exceptions import ConfigurationError, TargetError
from .servers._runner import INTERFACES, SERVERS, serve

__all__ = ["Target", "TargetError", "load_app", "main", "parse_target"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass(frozen=True, slots=True)
class Target:
    """Where an app lives: import `module` with `path_entry` first on sys.path, take `attr`."""

    spec: str
    module: str
    attr: str
    path_entry: str
    file: Path | None = None

    @property
    def import_string(self) -> str:
        """`module:attr`, for a server to import the app itself."""
        return f"{self.module}:{self.attr}"


def _is_dotted_name(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _module_from_file(file: Path) -> tuple[str, str]:
    """The module name of a .py file and the directory to import it from.

    Walk up while the directory is a package (as Granian does), so that `src/pkg/app.py`
    imports as `pkg.app` from `src` and its relative imports work.
    """
    parts = [] if file.stem == "__init__" else [file.stem]
    directory = file.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    if not parts:
        raise TargetError(f"{file}: cannot tell its module name")
    return ".".join(reversed(parts)), str(directory)


def parse_target(spec: str, cwd: Path | None = None) -> Target:
    """Read `module:attr` or `path/to/file.py:attr` (`:attr` defaults to `:app`)."""
    cwd = cwd or Path.cwd()
    where, sep, attr = spec.rpartition(":")
    if not sep or attr.startswith(("/", "\\")):  # no attribute (or a Windows drive letter)
        where, attr = spec, "app"
    if not where:
        raise TargetError(f"{spec!r}: expected module:attr or path/to/file.py:attr")
    if not _is_dotted_name(attr):
        raise TargetError(f"{spec!r}: {attr!r} is not an attribute name")
    if where.endswith(".py") or "/" in where or os.sep in where:
        file = (cwd / where).resolve()
        if not file.is_file():
            raise TargetError(f"{spec!r}: no such file {where!r}")
        if file.suffix != ".py":
            raise TargetError(f"{spec!r}: {where!r} is not a .py file")
        module, path_entry = _module_from_file(file)
        return Target(spec, module, attr, path_entry, file)
    if not _is_dotted_name(where):
        raise TargetError(f"{spec!r}: {where!r} is neither a module name nor a .py file")
    return Target(spec, where, attr, str(cwd))


def _put_on_path(target: Target) -> None:
    if target.path_entry not in sys.path:
        sys.path.insert(0, target.path_entry)


def _missing_module(target: Target, exc: ModuleNotFoundError) -> bool:
    """Whether `exc` says the target module itself (not one it imports) does not exist."""
    name = exc.name or ""
    return target.module == name or target.module.startswith(f"{name}.")


def check_target(target: Target) -> None:
    """Make sure the target module can be found, without running it (for `--reload`)."""
    _put_on_path(target)
    if target.file is not None:
        return
    try:
        found = importlib.util.find_spec(target.module)
    except ModuleNotFoundError as exc:
        if not _missing_module(target, exc):
            raise
        found = None
    if found is None:
        raise TargetError(f"{target.spec!r}: no module named {target.module!r}")


def load_app(target: Target) -> App:
    """Import the target module and return its app; `TargetError` if there is none.

    An exception raised by the module's own code propagates, traceback and all.
    """
    _put_on_path(target)
    try:
        module = importlib.import_module(target.module)
    except ModuleNotFoundError as exc:
        if not _missing_module(target, exc):
            raise
        raise TargetError(
            f"{target.spec!r}: no module named {target.module!r} "
            f"(looked in {target.path_entry} and on sys.path)"
        ) from None
    loaded_from = getattr(module, "__file__", None)
    if target.file is not None and (
        loaded_from is None or Path(loaded_from).resolve() != target.file
    ):
        raise TargetError(
            f"{target.spec!r}: imports as {target.module!r}, a name already taken by "
            f"{loaded_from or 'a built-in module'}; rename the file"
        )
    found: object = module
    for name in target.attr.split("."):
        try:
            found = getattr(found, name)
        except AttributeError:
            raise TargetError(
                f"{target.spec!r}: module {target.module!r} has no attribute {target.attr!r}"
            ) from None
    if not isinstance(found, App):
        raise TargetError(
            f"{target.spec!r}: {target.attr!r} is a {type(found).__name__}, not an ambi App"
        )
    return found


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return value


def _target_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="module:attr or path/to/file.py:attr (attr defaults to app)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ambi", description="ambi: a web framework where def and async def are equals."
    )
    parser.add_argument("--version", action="version", version=f"ambi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="serve an app",
        description="Serve an ambi app with Granian (RSGI by default) or uvicorn.",
    )
    _target_argument(run)
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    run.add_argument("--port", type=_port, default=8000, help="port to bind (default: %(default)s)")
    run.add_argument(
        "--workers", type=_positive_int, default=1, help="worker processes (default: 1)"
    )
    run.add_argument("--reload", action="store_true", help="restart workers when code changes")
    run.add_argument("--server", choices=SERVERS, default="granian", help="default: granian")
    run.add_argument(
        "--interface",
        choices=INTERFACES,
        default=None,
        help="rsgi (Granian only; its default, or asgi for an app with ASGI middleware) or asgi",
    )
    run.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: info")
    run.add_argument("--access-log", action="store_true", help="log every request")
    run.set_defaults(command_parser=run, handler=_run)
    routes = commands.add_parser(
        "routes",
        help="list an app's routes",
        description="List the routes, websocket routes and mounts of an app: methods (WEBSOCKET "
        "for websocket routes), path, handler, the kind "
        "of handler (where it runs) and its guards.",
    )
    _target_argument(routes)
    routes.set_defaults(command_parser=routes, handler=_routes)
    show_version = commands.add_parser("version", help="print the versions in use")
    show_version.set_defaults(command_parser=show_version, handler=_version)
    _add_worker_command(commands)
    return parser


def _fail(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    """A one-line error on stderr (no usage text) and exit status 2, as for usage errors."""
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    sys.exit(2)


def _run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.command_parser
    interface: str | None = args.interface  # None: the runner picks the faster one
    if args.server == "uvicorn" and interface not in (None, "asgi"):
        parser.error("--server uvicorn speaks ASGI only: drop --interface rsgi")
    app: App | None = None
    try:
        target = parse_target(args.target)
        if args.reload:
            check_target(target)
        else:
            app = load_app(target)
    except TargetError as exc:
        _fail(parser, str(exc))
    try:
        serve(
            app,
            host=args.host,
            port=args.port,
            workers=args.workers,
            server=args.server,
            interface=interface,
            log_level=args.log_level,
            access_log=args.access_log,
            target=target.import_string,
            reload=args.reload,
        )
    except ConfigurationError as exc:
        parser.error(str(exc))
    return 0


def _add_worker_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser(
        "worker",
        help="run an app's background tasks",
        description="Run the tasks of an app whose background tasks use a distributed "
        "backend (enable_background_tasks(backend='redis://...' or 'nats://...')). "
        "Start as many as you like; SIGINT/SIGTERM finish the running tasks first.",
    )
    worker.add_argument("target", metavar="TARGET", help="module:attr or path/to/file.py:attr")
    worker.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: info")
    worker.set_defaults(command_parser=worker, handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    import logging

    from .background._worker import run_worker

    parser: argparse.ArgumentParser = args.command_parser
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        app = load_app(parse_target(args.target))
        run_worker(app)
    except TargetError as exc:
        _fail(parser, str(exc))
    except ConfigurationError as exc:
        parser.error(str(exc))
    return 0


def _routes(args: argparse.Namespace) -> int:
    try:
        app = load_app(parse_target(args.target))
    except TargetError as exc:
        _fail(args.command_parser, str(exc))
    print(format_table(route_rows(app)))
    return 0


def _version(args: argparse.Namespace) -> int:
    try:
        granian = f"granian {version('granian')}"
    except PackageNotFoundError:  # pragma: no cover - a dependency, always installed
        granian = "granian not installed"
    implementation = platform.python_implementation()
    print(f"ambi {__version__} ({implementation} {platform.python_version()}, {granian})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The `ambi` command. Usage errors exit with status 2, as argparse's do."""
    args = build_parser().parse_args(argv)
    return int(getattr(args, "handler", _run)(args))


if __name__ == "__main__":
    sys.exit(main())
