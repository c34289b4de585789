"""The process pool for `run="process"`: spawned children that leave signals to the server.

The children are *spawned* (a fresh interpreter), never forked from the server's worker:
a forked child inherits the worker's signal handlers and its event loop's wake-up pipe, and
Granian's worker then cannot stop (issue 21: Ctrl-C left it "refusing to gracefully stop"
and the children orphaned). Each child ignores SIGINT and SIGTERM, which a terminal or
systemd sends to the whole process group: stopping them is the server's job, done by
`close()` after the requests using them have finished; and each exits by itself if the
process that started it is gone (killed with SIGKILL, say).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..exceptions import ConfigurationError

#: Rounds of jobs `warm()` sends at most to have every child answer once.
WARM_ROUNDS = 5

#: How often a child checks that the process that started it is still there.
PARENT_CHECK_INTERVAL = 0.5


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_INTERVAL)
        if os.getppid() != parent:
            os._exit(1)


def _child_init(parent: int) -> None:
    """In each child, before any job: ignore the group's stop signals, watch the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _ping(pause: float) -> int:
    time.sleep(pause)
    return os.getpid()


class ProcessPool:
    """`max_workers` spawned processes (default: one per core)."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 1
        self._executor = concurrent.futures.ProcessPoolExecutor(
            self.max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_init,
            initargs=(os.getpid(),),
        )
        # Every child started, kept here: the executor forgets them on shutdown, and
        # close() must be able to end one that does not stop in time.
        self._children: dict[int, Any] = {}
        #: jobs submitted, and those not finished yet (for the metrics)
        self.submitted = 0
        self.active = 0

    @property
    def pids(self) -> list[int]:
        """The children's process ids (those started so far)."""
        self._note_children()
        return sorted(self._children)

    def _note_children(self) -> None:
        processes = getattr(self._executor, "_processes", None) or {}
        self._children.update(processes)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> asyncio.Future[Any]:
        """Run a picklable `fn(*args)` in a child; await the result on the running loop."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        self._note_children()
        self.submitted += 1
        self.active += 1
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: asyncio.Future[Any]) -> None:
        self.active -= 1

    def _submit_many(self, n: int) -> list[concurrent.futures.Future[int]]:
        futures = [self._executor.submit(_ping, 0.05) for _ in range(n)]
        self._note_children()
        return futures

    async def warm(self, run_blocking: Callable[..., Awaitable[Any]]) -> None:
        """Start every child now (at app startup), not on the first request. Starting one
        blocks for a while (a fork and an exec), so it is done through `run_blocking` (the
        thread pool), off the loop."""
        seen: set[int] = set()
        for _ in range(WARM_ROUNDS):
            # Jobs that take a moment spread over the children: each starts one.
            futures = await run_blocking(self._submit_many, self.max_workers)
            try:
                seen.update(await asyncio.gather(*map(asyncio.wrap_future, futures)))
            except concurrent.futures.process.BrokenProcessPool as exc:
                raise ConfigurationError(
                    "the process pool's children could not start (their error is above). "
                    "They are spawned and import the main module again: a script must "
                    "start its app only under `if __name__ == '__main__':`"
                ) from exc
            if len(seen) >= self.max_workers:
                return

    def close(self, grace: float) -> bool:
        """Cancel what has not started, let running jobs end (up to `grace` s), then end the
        children; True if none had to be killed. (The executor's own shutdown joins the
        children, in a thread of its own here: joining them from two threads races.)"""
        self._note_children()
        closer = threading.Thread(
            target=self._executor.shutdown,
            kwargs={"wait": True, "cancel_futures": True},
            name="ambi-process-pool-close",
            daemon=True,
        )
        closer.start()
        closer.join(grace)
        if not closer.is_alive():
            return True
        for child in self._children.values():
            if child.is_alive():
                child.kill()  # the children ignore SIGTERM
        closer.join(2.0)
        return False
