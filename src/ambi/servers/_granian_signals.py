"""A Granian worker told to stop twice must still stop: its stop event is set once.

Ctrl-C in a terminal (or `kill -INT -- -PGID`, or systemd's group kill) sends the signal to
every process of the group: Granian's main process *and* its workers. The main process
then sends each worker SIGTERM as well, so a worker gets two stop signals at almost the
same moment. Granian 2.8's worker answers each one with `WorkerSignal.set()`, which does a
blocking `send` on a crossbeam channel bounded to one message (granian `src/workers.rs`).
When the second signal is handled before the worker's serving thread has taken the first
message, the second `send` blocks the event loop's thread, GIL held, for good: the worker
never shuts down, its app's shutdown hooks never run, and the main process kills it after
`workers_kill_timeout` ("Killing worker-1 after it refused to gracefully stop"). Seen here
in 3 of 15 runs of `tests/servers/test_process_pool.py` on a loaded machine, and in a CI
run; a py-spy dump of the stuck worker shows the loop thread inside `WorkerSignal.set`.

`set_stop_event_once()` wraps Granian's `set_loop_signals` (what its ASGI and RSGI workers
call to tie SIGINT and SIGTERM to their stop event) so that the worker's loop sets the
event on the first stop signal only. A later one has nothing left to do in a worker:
Granian's only second stage is its main process's kill timeout. The runner installs it
before Granian forks its workers; the forked workers import `set_loop_signals` from the
module when they start, so they get this one.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

#: The signals Granian ties to a worker's stop event (its `_signals._get_signals`, POSIX).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _SetOnce:
    """`event.set()` on the first call only (called on the loop's thread, or in the main
    thread as a plain signal handler: never from two threads at once)."""

    __slots__ = ("event", "fired")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.fired = False

    def __call__(self, *_: object) -> None:
        if not self.fired:
            self.fired = True
            self.event.set()


def once(set_loop_signals: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Granian's `set_loop_signals(loop)`, with the stop event set at most once."""
    if getattr(set_loop_signals, "__wrapped__", None) is not None:
        return set_loop_signals  # already wrapped (the runner started twice in a process)

    def set_loop_signals_once(loop: Any) -> Any:
        event = set_loop_signals(loop)  # Granian's handlers, then ours in their place
        set_once = _SetOnce(event)
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, set_once)
            except NotImplementedError:  # as Granian does: a loop without signal support
                signal.signal(sig, set_once)
        return event

    set_loop_signals_once.__wrapped__ = set_loop_signals  # type: ignore[attr-defined]
    return set_loop_signals_once


def set_stop_event_once() -> None:
    """Install `once` in Granian, for the workers it forks from now on."""
    from granian import _signals

    _signals.set_loop_signals = once(_signals.set_loop_signals)
