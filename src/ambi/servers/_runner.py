"""Running an app on a production server: Granian (RSGI, the measured fastest) or uvicorn."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError
from . import _granian_signals, _shutdown

if TYPE_CHECKING:
    import uvicorn

    from ..app import App

SERVERS = ("granian", "uvicorn")
INTERFACES = ("rsgi", "asgi")

#: `App(shutdown_timeout=...)`'s default, for `serve(None, target=...)`.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
#: Seconds a Granian worker gets beyond `shutdown_timeout` (for which the app lets work in
#: its pools finish) to run the shutdown hooks, before Granian kills it.
SHUTDOWN_HOOKS_GRACE = 5

#: The largest websocket message Granian takes (tungstenite's default, not configurable).
GRANIAN_WEBSOCKET_MAX_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebSocketSettings:
    """Server-side websocket options: pings (None: the server's default)."""

    ping_interval: float | None = None
    ping_timeout: float | None = None

    @property
    def given(self) -> bool:
        return self.ping_interval is not None or self.ping_timeout is not None


def _largest_websocket_message(app: App) -> int | None:
    """The largest message any websocket route of `app` accepts (None: no limit)."""
    limits = [route.max_size for route in app.websockets.compiled]
    if not limits or None in limits:
        return None
    return max(size for size in limits if size is not None)


def _check_websockets(app: App | None, server: str, websockets: WebSocketSettings) -> None:
    for name, value in (
        ("websocket_ping_interval", websockets.ping_interval),
        ("websocket_ping_timeout", websockets.ping_timeout),
    ):
        if value is not None and value <= 0:
            raise ConfigurationError(f"{name} must be > 0 seconds, got {value}")
    if server == "granian" and websockets.given:
        raise ConfigurationError(
            "Granian does not send websocket pings (nor lets them be configured); "
            "use server='uvicorn' for websocket_ping_interval / websocket_ping_timeout"
        )
    if server == "granian" and app is not None:
        largest = _largest_websocket_message(app)
        if largest is not None and largest > GRANIAN_WEBSOCKET_MAX_SIZE:
            raise ConfigurationError(
                f"a websocket route accepts messages of {largest} bytes, but Granian takes at "
                f"most {GRANIAN_WEBSOCKET_MAX_SIZE}; lower max_size or use server='uvicorn'"
            )


def serve(
    app: App | None,
    *,
    host: str,
    port: int,
    workers: int,
    server: str,
    interface: str | None,
    log_level: str,
    access_log: bool,
    target: str | None = None,
    reload: bool = False,
    websockets: WebSocketSettings | None = None,
) -> None:
    """Serve `app` until SIGINT/SIGTERM, then shut down gracefully.

    `target` ("module:attr") lets a server import the app itself (needed for uvicorn with
    several workers, and for reload); without it the app object is handed over directly,
    which works for apps defined in a `__main__` script. `app` may be None when `target` is
    given: `ambi run --reload` must not import the app in the process workers are forked from.
    """
    if server not in SERVERS:
        raise ConfigurationError(f"server={server!r}: use one of {', '.join(SERVERS)}")
    if interface is None:
        interface = default_interface(app, server)
    if interface not in INTERFACES:
        raise ConfigurationError(f"interface={interface!r}: use one of {', '.join(INTERFACES)}")
    if workers < 1:
        raise ConfigurationError(f"workers must be at least 1, got {workers}")
    _application(app, target)  # an app object or an import string, else ConfigurationError
    websockets = websockets or WebSocketSettings()
    _check_websockets(app, server, websockets)
    if app is not None:
        app._being_served()
    if reload and target is None:
        raise ConfigurationError("reload needs an import string: use `ambi run module:app`")
    if reload and server == "granian" and importlib.util.find_spec("watchfiles") is None:
        raise ConfigurationError(
            "reload with Granian needs watchfiles: pip install 'granian[reload]' "
            "(or use --server uvicorn)"
        )
    run = _Run(
        app, host, port, workers, interface, log_level, access_log, target, reload, websockets
    )
    with _shutdown_reports() as path:
        if server == "uvicorn":
            _serve_uvicorn(run)
        else:
            _serve_granian(run)
        problem = _shutdown.unclean_workers(path)
    if problem is not None:
        print(f"ambi: the shutdown was not clean: {problem}", file=sys.stderr, flush=True)
        sys.exit(_shutdown.UNCLEAN_EXIT)


@contextlib.contextmanager
def _shutdown_reports() -> Iterator[str]:
    """A file the workers report their shutdown to (`ambi.servers._shutdown`), named in
    the environment they inherit."""
    fd, path = tempfile.mkstemp(prefix="ambi-shutdown-", suffix=".log")
    os.close(fd)
    previous = os.environ.get(_shutdown.REPORT_ENV)
    os.environ[_shutdown.REPORT_ENV] = path
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(_shutdown.REPORT_ENV, None)
        else:
            os.environ[_shutdown.REPORT_ENV] = previous
        with contextlib.suppress(OSError):
            os.unlink(path)


def default_interface(app: App | None, server: str) -> str:
    """The faster measured interface: RSGI on Granian, unless the app has ASGI middleware,
    which then runs on Granian's ASGI interface rather than bridged over RSGI (CPU per
    request 62.8 vs 74.2 µs on the realistic app, benchmarks/RESULTS.md)."""
    if server == "uvicorn":
        return "asgi"
    if app is not None and app.has_asgi_middleware:
        print(
            "ambi: the app has ASGI middleware: serving it over Granian's ASGI interface "
            "(cheaper than bridging it over RSGI)",
            flush=True,
        )
        return "asgi"
    return "rsgi"


def _announce(where: str, server: str, interface: str, workers: int) -> None:
    plural = "s" if workers != 1 else ""
    print(
        f"ambi: serving on {where} ({server}, {interface.upper()}, {workers} worker{plural}); "
        "press Ctrl+C to stop",
        flush=True,
    )


def _application(app: App | None, target: str | None) -> App | str:
    """What the server is handed: the import string when there is one, else the app."""
    if target is not None:
        return target
    if app is None:
        raise ConfigurationError("serve() needs an app or an import string (target=)")
    return app


def _loader(app: App) -> Callable[..., App]:
    def load(*_args: Any, **_kwargs: Any) -> App:
        return app

    return load


@dataclass(frozen=True, slots=True)
class _Run:
    """What `serve()` checked and hands to the server-specific step."""

    app: App | None
    host: str
    port: int
    workers: int
    interface: str
    log_level: str
    access_log: bool
    target: str | None
    reload: bool
    websockets: WebSocketSettings

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def application(self) -> App | str:
        return _application(self.app, self.target)

    @property
    def shutdown_timeout(self) -> float:
        return DEFAULT_SHUTDOWN_TIMEOUT if self.app is None else self.app.shutdown_timeout


def _serve_granian(run: _Run) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    granian = Granian(
        run.target or "ambi:app",
        address=run.host,
        port=run.port,
        interface=Interfaces.RSGI if run.interface == "rsgi" else Interfaces.ASGI,
        # HTTP/1.1 only on RSGI: over HTTP/2 (h2c), Granian's RSGI body iterator ends a
        # body the client resets mid-way as if it were complete, with nothing to tell
        # the two apart (see ambi/servers/rsgi.py); its ASGI interface reports it.
        http=HTTPModes.http1 if run.interface == "rsgi" else HTTPModes.auto,
        workers=run.workers,
        log_level=LogLevels(run.log_level),
        log_access=run.access_log,
        # the app's pools answer what is left shutdown_timeout after the signal (503),
        # then it runs its hooks: kill only after that
        workers_kill_timeout=max(1, int(run.shutdown_timeout) + SHUTDOWN_HOOKS_GRACE),
        reload=run.reload,
    )
    _announce(run.where, "granian", run.interface, run.workers)
    # its workers get SIGINT and SIGTERM together on Ctrl-C: one must not hang them
    _granian_signals.set_stop_event_once()

    application = run.application
    if isinstance(application, str):
        granian.serve()  # each worker imports the target (after a fork: from sys.modules)
    else:
        granian.serve(target_loader=_loader(application), wrap_loader=False)


def _serve_uvicorn(run: _Run) -> None:
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError("server='uvicorn' needs: pip install 'ambi[uvicorn]'") from exc
    if (run.workers > 1 or run.reload) and run.target is None:
        raise ConfigurationError(
            "uvicorn needs an import string for several workers or reload: "
            "use `ambi run module:app --server uvicorn`"
        )
    _announce(run.where, "uvicorn", "asgi", run.workers)
    options: dict[str, Any] = {
        "host": run.host,
        "port": run.port,
        "workers": run.workers,
        "log_level": run.log_level,
        "access_log": run.access_log,
        "lifespan": "on",
        "reload": run.reload,
        # past shutdown_timeout the app's pools answer what is left (503): wait a bit longer
        "timeout_graceful_shutdown": int(run.shutdown_timeout) + 1,
        **_uvicorn_websocket_options(run),
    }
    with _sigterm_like_sigint():
        if run.workers > 1 and not run.reload:
            _run_uvicorn_workers(uvicorn.Config(run.application, **options))
        else:
            uvicorn.run(run.application, **options)
    sys.stdout.flush()


def _uvicorn_websocket_options(run: _Run) -> dict[str, Any]:
    """uvicorn's websocket options: its own size limit set to the app's largest (so that
    uvicorn refuses bigger messages itself, with 1009, before buffering them), and pings."""
    options: dict[str, Any] = {}
    if run.app is not None and run.app.websockets.compiled:
        largest = _largest_websocket_message(run.app)
        if largest is not None:
            options["ws_max_size"] = largest
    if run.websockets.ping_interval is not None:
        options["ws_ping_interval"] = run.websockets.ping_interval
    if run.websockets.ping_timeout is not None:
        options["ws_ping_timeout"] = run.websockets.ping_timeout
    return options


def _run_uvicorn_workers(config: uvicorn.Config) -> None:
    """What `uvicorn.run` does for several workers, plus an exit status for a failed start.

    uvicorn's supervisor stops when a worker fails its startup (exit status 3), but then
    `uvicorn.run` returns normally, so the process would exit 0 after a failed start.
    """
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    with contextlib.suppress(KeyboardInterrupt):
        supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        sys.exit(STARTUP_FAILURE)


@contextlib.contextmanager
def _sigterm_like_sigint() -> Iterator[None]:
    """Let a SIGTERM'd uvicorn return from `run()` (exit 0) like a SIGINT'd one, and Granian.

    After a graceful shutdown uvicorn raises the signal that stopped it once more, with the
    handler it found installed: for SIGINT that is a KeyboardInterrupt, which `uvicorn.run`
    swallows; for SIGTERM the default action kills the process (-SIGTERM) after the clean
    shutdown. With SIGTERM mapped to KeyboardInterrupt while uvicorn runs, both end alike.
    A handler the user installed is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
