"""Running an app on a production server: Granian (RSGI, the measured fastest) or uvicorn."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from ..app import App

SERVERS = ("granian", "uvicorn")
INTERFACES = ("rsgi", "asgi")


def serve(
    app: App,
    *,
    host: str,
    port: int,
    workers: int,
    server: str,
    interface: str,
    log_level: str,
    access_log: bool,
    target: str | None = None,
    reload: bool = False,
) -> None:
    """Serve `app` until SIGINT/SIGTERM, then shut down gracefully.

    `target` ("module:attr") lets a server import the app itself (needed for uvicorn with
    several workers or reload); without it the app object is handed over directly, which
    works for apps defined in a `__main__` script.
    """
    if server not in SERVERS:
        raise ConfigurationError(f"server={server!r}: use one of {', '.join(SERVERS)}")
    if interface not in INTERFACES:
        raise ConfigurationError(f"interface={interface!r}: use one of {', '.join(INTERFACES)}")
    if workers < 1:
        raise ConfigurationError(f"workers must be at least 1, got {workers}")
    where = f"http://{host}:{port}"
    if server == "uvicorn":
        _serve_uvicorn(app, host, port, workers, log_level, access_log, target, reload, where)
    else:
        _serve_granian(
            app, host, port, workers, interface, log_level, access_log, target, reload, where
        )


def _announce(where: str, server: str, interface: str, workers: int) -> None:
    plural = "s" if workers != 1 else ""
    print(
        f"ambi: serving on {where} ({server}, {interface.upper()}, {workers} worker{plural}); "
        "press Ctrl+C to stop",
        flush=True,
    )


def _serve_granian(  # noqa: PLR0917 - a private step of serve(), which is keyword-only
    app: App,
    host: str,
    port: int,
    workers: int,
    interface: str,
    log_level: str,
    access_log: bool,
    target: str | None,
    reload: bool,
    where: str,
) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    granian = Granian(
        target or "ambi:app",
        address=host,
        port=port,
        interface=Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI,
        workers=workers,
        log_level=LogLevels(log_level),
        log_access=access_log,
        workers_kill_timeout=max(1, int(app.shutdown_timeout)),
        reload=reload,
    )
    _announce(where, "granian", interface, workers)

    def load(*_args: Any, **_kwargs: Any) -> App:
        return app

    if target is not None:
        granian.serve()
    else:
        granian.serve(target_loader=load, wrap_loader=False)


def _serve_uvicorn(  # noqa: PLR0917 - a private step of serve(), which is keyword-only
    app: App,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    access_log: bool,
    target: str | None,
    reload: bool,
    where: str,
) -> None:
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError("server='uvicorn' needs: pip install 'ambi[uvicorn]'") from exc
    if (workers > 1 or reload) and target is None:
        raise ConfigurationError(
            "uvicorn needs an import string for several workers or reload: "
            "use `ambi run module:app --server uvicorn`"
        )
    _announce(where, "uvicorn", "asgi", workers)
    uvicorn.run(
        target if target is not None else app,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        reload=reload,
        timeout_graceful_shutdown=int(app.shutdown_timeout),
    )
    sys.stdout.flush()
