"""Noticing that the server was told to stop, without taking its signals away from it.

A server (Granian, uvicorn) handles SIGINT and SIGTERM itself: it stops accepting, waits
for the requests in flight, then runs the app's shutdown. The app must know when that wait
began, so that work still waiting in its pools when `shutdown_timeout` is up is answered
(503) before the server's own deadline kills the process and drops it silently. The
server's handlers are wrapped, never replaced: each still runs, after a note is taken.
"""

from __future__ import annotations

import signal
import threading
import types
from collections.abc import Callable
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_Handler = Callable[[int, types.FrameType | None], Any]


class _Noting:
    """The server's handler, preceded by a note that a stop signal came."""

    def __init__(self, previous: _Handler, note: Callable[[], None]) -> None:
        self.previous = previous
        self.note = note

    def __call__(self, signum: int, frame: types.FrameType | None) -> Any:
        self.note()
        return self.previous(signum, frame)


def watch_stop_signals(note: Callable[[], None]) -> bool:
    """Call `note()` when SIGINT or SIGTERM arrives, then the handler installed before.

    Only where a server installed handlers of its own (in the main thread): Python's
    defaults (KeyboardInterrupt, exit) and ignored signals are left alone. True if any
    handler was wrapped.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    wrapped = False
    for sig in STOP_SIGNALS:
        previous = signal.getsignal(sig)
        if isinstance(previous, _Noting):
            previous = previous.previous  # started again: note once, for this engine
        if not callable(previous) or previous is signal.default_int_handler:
            continue
        signal.signal(sig, _Noting(previous, note))
        wrapped = True
    return wrapped
