"""A shutdown that cannot finish: requests still running when `shutdown_timeout` is up.

The server waits for the requests in flight before it lets the app shut down (Granian runs
the shutdown hooks only once every connection is over, and kills a worker that outlives its
`workers_kill_timeout`). So `shutdown_timeout` after the stop signal, the requests still
running are cut: a warning names their routes, each handler is cancelled and its client
answered 503 (`answer_cut`, in the adapters) — unless its response had begun, then its
connection is closed. The connections end, the server goes on to the app's shutdown, the
hooks run, and the shutdown is reported not clean: `listen()` / `ambi run` then exit with
status `UNCLEAN_EXIT` (`report` in each worker, `unclean_workers` in the main process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any

from ..http import JSONResponse, Request, Response

if TYPE_CHECKING:
    from ..app import App

logger = logging.getLogger("ambi.server")

#: The exit status of `listen()` / `ambi run` after a shutdown that cut work short.
UNCLEAN_EXIT = 1
#: The file each worker reports its shutdown to (set by the runner for its workers).
REPORT_ENV = "AMBI_SHUTDOWN_REPORT"
UP, CLEAN, UNCLEAN = "up", "clean", "unclean"

#: The adapters' request coroutines (`serve_http` of `rsgi` and `asgi`): a task running one
#: of them is a request in flight, and its frame holds the `request`.
ADAPTER_CODES: set[CodeType] = set()


def shutting_down() -> Response:
    return JSONResponse({"detail": "the server is shutting down"}, 503, {"retry-after": "1"})


def _request_of(task: asyncio.Task[Any]) -> Request | None:
    """The request `task` serves, found down its chain of awaited coroutines."""
    coro: Any = task.get_coro()
    for _ in range(64):  # the adapter is near the top: the app, its ASGI middleware
        code = getattr(coro, "cr_code", None)
        if code is None:
            return None
        if code in ADAPTER_CODES:
            frame = coro.cr_frame
            request = None if frame is None else frame.f_locals.get("request")
            return request if isinstance(request, Request) else None
        coro = coro.cr_await
    return None


def _in_flight(loop: asyncio.AbstractEventLoop) -> Iterator[tuple[asyncio.Task[Any], Request]]:
    current = asyncio.current_task(loop)
    for task in asyncio.all_tasks(loop):
        if task is not current and not task.done():
            request = _request_of(task)
            if request is not None:
                yield task, request


def requests_in_flight(loop: asyncio.AbstractEventLoop) -> list[Request]:
    """The requests being served now on `loop` (what `app.metrics()` counts as in flight),
    read from any thread: those whose task waits, found down its chain of awaited
    coroutines, and the one running at this moment, found on its thread's stack (a
    running coroutine does not tell what it awaits)."""
    found = {id(request): request for _, request in _in_flight(loop)}
    for top in sys._current_frames().values():
        frame: FrameType | None = top
        while frame is not None:
            if frame.f_code in ADAPTER_CODES:
                request = frame.f_locals.get("request")
                if isinstance(request, Request):
                    found[id(request)] = request
            frame = frame.f_back
    return list(found.values())


def _route_name(request: Request) -> str:
    route = request.route
    path = request.path if route is None else route.definition.path
    return f"{request.method} {path}"


def cut_in_flight(app: App) -> None:
    """`shutdown_timeout` is up: cancel the requests still running (their clients get a
    503 from the adapter, `answer_cut`), after a warning naming their routes."""
    loop = app.engine.loop
    if loop is None:
        return
    running = list(_in_flight(loop))
    if not running:
        return
    app.engine.cut.update(request for _, request in running)
    app.engine.cut_short = True
    names = sorted(_route_name(request) for _, request in running)
    logger.warning(
        "%d request(s) still running %.1f s after the stop signal (shutdown_timeout): %s; "
        "cancelled, answered 503 where no response had begun",
        len(running),
        app.shutdown_timeout,
        ", ".join(names),
    )
    for task, _ in running:
        task.cancel("ambi: shutdown_timeout is up")


def was_cut(app: App, request: Request) -> bool:
    """True if `request`'s cancellation is the shutdown's (see `cut_in_flight`)."""
    return request in app.engine.cut


def report(status: str) -> None:
    """Record this process's startup (`UP`) or shutdown (`CLEAN`, `UNCLEAN`) for the main
    process (`listen()`, `ambi run`), when it asked for reports."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as file:
        file.write(f"{status} {os.getpid()}\n")


def unclean_workers(path: str) -> str | None:
    """Why the shutdown the workers reported to `path` was not clean (None: it was): work
    cut short, or a worker that started and never finished its shutdown (killed)."""
    try:
        with open(path, encoding="utf-8") as file:
            words = file.read().split()
    except OSError:
        words = []
    up: set[str] = set()
    down: set[str] = set()
    cut = 0
    for status, pid in zip(words[::2], words[1::2], strict=False):
        if status == UP:
            up.add(pid)
        else:
            down.add(pid)
            cut += status == UNCLEAN
    if cut:
        return f"{cut} worker(s) cut work short at shutdown_timeout (see the warnings above)"
    if up - down:
        return f"{len(up - down)} worker(s) ended without finishing their shutdown (killed?)"
    return None
