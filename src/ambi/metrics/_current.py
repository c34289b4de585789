"""The app the calling code runs in, for `get_handler_stats()` / `get_performance_metrics()`.

Found from the request being served (`current_request().app`), else from the engine of the
running loop (`engine_for_loop`) or of the loop a worker thread serves
(`current_worker_loop`), through a weak map filled by `App.__init__`.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

from ..exceptions import AmbiError
from ..execution import Engine, current_worker_loop, engine_for_loop
from ..http._context import current_request

if TYPE_CHECKING:
    from ..app import App

_apps: weakref.WeakKeyDictionary[Engine, App] = weakref.WeakKeyDictionary()


def register_app(app: App) -> None:
    """Remember which app owns `app.engine` (called by `App.__init__`)."""
    _apps[app.engine] = app


def current_app() -> App:
    """The app serving the calling code; `AmbiError` when there is none."""
    request = current_request()
    if request is not None:
        return request.app
    loop: asyncio.AbstractEventLoop | None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = current_worker_loop()
    engine = engine_for_loop(loop) if loop is not None else None
    app = _apps.get(engine) if engine is not None else None
    if app is None:
        raise AmbiError(
            "no ambi app is running here: call get_handler_stats() / "
            "get_performance_metrics() from a handler, or use app.handler_stats() / "
            "app.metrics()"
        )
    return app
