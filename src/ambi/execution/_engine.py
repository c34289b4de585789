"""The engine: one per app, owning its pools, its watchdog and their counters."""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError, HTTPException
from ._pool import ThreadPool
from ._processes import ProcessPool
from ._signals import watch_stop_signals
from ._watchdog import LoopBlock, Watchdog

logger = logging.getLogger("ambi.execution")

_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Engine] = weakref.WeakKeyDictionary()


#: Loop stalls kept with their stacks in `EngineStats.recent_blocks`.
RECENT_BLOCKS = 20


def engine_for_loop(loop: asyncio.AbstractEventLoop) -> Engine | None:
    """The started engine serving `loop`, if any."""
    return _engines.get(loop)


@dataclass
class EngineStats:
    """Counters of one engine, per route ("GET /items/{id}"), for the metrics.

    Live objects: read them, do not replace them.
    """

    #: stalls of the event loop, by the route that was running ("(no route)" if none)
    loop_blocks: collections.Counter[str] = field(default_factory=collections.Counter)
    #: requests answered 503 because the thread pool's queue was full
    rejected: collections.Counter[str] = field(default_factory=collections.Counter)
    #: requests answered 503 because the route ran `max_concurrency` requests already
    over_limit: collections.Counter[str] = field(default_factory=collections.Counter)
    #: requests answered 504 because the route's `timeout` passed
    timed_out: collections.Counter[str] = field(default_factory=collections.Counter)
    #: the latest stalls of the event loop, with their stacks (newest last)
    recent_blocks: collections.deque[LoopBlock] = field(
        default_factory=lambda: collections.deque(maxlen=RECENT_BLOCKS)
    )
    #: `def` handlers promoted to run inline: calls in a row under the threshold
    promoted: dict[str, int] = field(default_factory=dict)
    #: `def` handlers demoted from inline: how long (s) the call that demoted them took
    demoted: dict[str, float] = field(default_factory=dict)


def _positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}")


class Engine:
    """Owns the thread pool, the process pool and the loop watchdog of one app in one process.

    The pools are made by `start()`, on the loop that serves requests, so that a forked
    server worker builds its own. Settings (all checked here, at construction):

    - `sync_workers`: threads in the pool for `def` callables.
    - `sync_queue_limit`: route handlers waiting for a thread beyond which a new request
      for a `def` route is answered 503 with Retry-After (None: no limit).
    - `process_workers`: processes for `run="process"` (default: one per core).
    - `inline_threshold`, `inline_after`, `inline_stall_limit`: adaptive inline for `def`
      route handlers with `run="auto"`: promoted after `inline_after` calls in a row under
      `inline_threshold` seconds (None: never inline by itself), demoted for good by one
      inline call over `inline_stall_limit`, or by three close together over the
      threshold (`ambi.execution._adaptive`).
    - `block_threshold`: the loop-blocking detector's threshold in seconds (None: off).
    - `shutdown_timeout`: how long work in the pools may take after the server is told to
      stop (SIGINT/SIGTERM); past it, what is still queued or running is answered 503.
    """

    def __init__(
        self,
        sync_workers: int = 40,
        process_workers: int | None = None,
        *,
        sync_queue_limit: int | None = None,
        inline_threshold: float | None = None,
        inline_after: int = 1000,
        inline_stall_limit: float = 0.05,
        block_threshold: float | None = None,
        shutdown_timeout: float = 10.0,
    ) -> None:
        if sync_workers < 1:
            raise ConfigurationError(f"sync_workers must be at least 1, got {sync_workers}")
        if process_workers is not None and process_workers < 1:
            raise ConfigurationError(f"process_workers must be at least 1, got {process_workers}")
        if sync_queue_limit is not None and sync_queue_limit < 0:
            raise ConfigurationError(f"sync_queue_limit must be >= 0, got {sync_queue_limit}")
        if inline_after < 1:
            raise ConfigurationError(f"inline_after must be at least 1, got {inline_after}")
        _positive("inline_threshold", inline_threshold)
        _positive("inline_stall_limit", inline_stall_limit)
        if inline_threshold is not None and inline_stall_limit < inline_threshold:
            raise ConfigurationError("inline_stall_limit must be at least inline_threshold")
        _positive("block_threshold", block_threshold)
        self.sync_workers = sync_workers
        self.process_workers = process_workers
        self.sync_queue_limit = sync_queue_limit
        self.inline_threshold = inline_threshold
        self.inline_after = inline_after
        self.inline_stall_limit = inline_stall_limit
        self.block_threshold = block_threshold
        self.shutdown_timeout = shutdown_timeout
        #: set when a callable with run="process" is compiled: the pool is warmed at startup
        self.uses_processes = False
        self.stats = EngineStats()
        #: the OpenTelemetry tracer with `app.enable_tracing()` (None: off): dependencies
        #: and background tasks get spans (`ambi._spans`)
        self.tracer: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.threads: ThreadPool | None = None
        self.processes: ProcessPool | None = None
        self.watchdog: Watchdog | None = None
        self._abandoned = False  # drain() gave up on jobs still running
        self._stopping = False  # a stop signal came
        #: Called when `shutdown_timeout` is up after a stop signal (the app cuts the
        #: requests still running: `ambi.servers._shutdown`).
        self.give_up_hooks: list[Callable[[], object]] = []
        #: Work was cut short at shutdown (pool jobs answered 503, requests cut): not a
        #: clean shutdown.
        self.cut_short = False
        #: What the give-up hooks cut (the app's requests, `ambi.servers._shutdown`).
        self.cut: set[Any] = set()

    @property
    def started(self) -> bool:
        return self.loop is not None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> ThreadPool:
        """Bind to `loop` (default: the running one), make the thread pool, start the
        watchdog. Call on the loop's thread."""
        loop = loop or asyncio.get_running_loop()
        if self.loop is loop and self.threads is not None:
            return self.threads
        if self.threads is not None:
            self.threads.shutdown(timeout=0)
        self.loop = loop
        self.threads = threads = ThreadPool(
            loop, self.sync_workers, "ambi-worker", self.sync_queue_limit
        )
        _engines[loop] = self
        if self.block_threshold is not None:
            if self.watchdog is None:
                self.watchdog = Watchdog(self.block_threshold, self._on_block)
            self.watchdog.start(loop)
        return threads

    async def startup(self) -> None:
        """`start()`, notice the server's stop signals, and start the process pool's
        children now if any callable needs them."""
        loop = asyncio.get_running_loop()
        self.start(loop)
        watch_stop_signals(functools.partial(self._stop_signalled, loop))
        if self.uses_processes and self.processes is None:
            self.processes = ProcessPool(self.process_workers)
            await self.processes.warm(self.run_in_thread)

    async def drain(self, grace: float) -> bool:
        """Let the jobs in the thread pool finish (up to `grace` s); what is still waiting
        after that is answered 503. True if everything finished in time."""
        threads = self.threads
        if threads is None or threads.loop is not asyncio.get_running_loop():
            return True
        drained = await threads.drain(grace)
        if not drained:
            logger.warning(
                "%d job(s) still in the thread pool %.1f s into the shutdown: answered 503, "
                "their threads left to finish",
                threads.abandoned,
                grace,
            )
            self._abandoned = self.cut_short = True
        return drained

    def stop(self, timeout: float = 5.0) -> None:
        """Let queued jobs finish (up to `timeout` seconds) and release the pools."""
        deadline = time.monotonic() + timeout
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.threads is not None:
            # after a drain that ran out of time, do not wait again for the stuck threads
            self.threads.shutdown(0 if self._abandoned else timeout)
            self.threads = None
            self._abandoned = False
        if self.processes is not None:
            if not self.processes.close(max(0.0, deadline - time.monotonic())):
                logger.warning("process pool children did not stop in time and were killed")
            self.processes = None
        if self.loop is not None:
            _engines.pop(self.loop, None)
        self.loop = None

    def threads_for_loop(self) -> ThreadPool:
        """The thread pool resolving futures on the running loop (started if need be)."""
        threads = self.threads
        loop = asyncio.get_running_loop()
        if threads is None or threads.loop is not loop:
            # First use, or an app driven from another loop than before (tests that reuse
            # one app across event loops): the pool must hand results to *this* loop.
            threads = self.start(loop)
        return threads

    def run_in_thread(self, fn: Callable[..., Any], /, *args: Any) -> asyncio.Future[Any]:
        """Run a blocking `fn(*args)` in the thread pool; never on the loop."""
        return self.threads_for_loop().submit(fn, *args)

    def submit_route_job(
        self, label: str, fn: Callable[..., Any], /, *args: Any
    ) -> asyncio.Future[Any]:
        """A route handler's job for the thread pool: refused at once with a 503 (and
        counted) when `sync_queue_limit` jobs are waiting already."""
        threads = self.threads_for_loop()
        if threads.full:
            self.stats.rejected[label] += 1
            raise HTTPException(
                503, "too many requests are waiting for the thread pool", {"retry-after": "1"}
            )
        return threads.submit(fn, *args)

    def run_cleanup(self, fn: Callable[..., Any], /, *args: Any) -> asyncio.Future[Any]:
        """Run cleanup work (a request's dependency exits) on the pool's cleanup threads:
        never refused, never queued behind route jobs that may wait for what it releases."""
        return self.threads_for_loop().submit_cleanup(fn, *args)

    def run_in_process(self, fn: Callable[..., Any], /, *args: Any) -> asyncio.Future[Any]:
        """Run a picklable `fn(*args)` in the process pool (made on first use if need be)."""
        if self.processes is None:
            self.processes = ProcessPool(self.process_workers)
        return self.processes.submit(fn, *args)

    def _stop_signalled(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the signal handler: `shutdown_timeout` from now, answer what is left."""
        if not self._stopping and not loop.is_closed():
            self._stopping = True
            loop.call_soon_threadsafe(loop.call_later, self.shutdown_timeout, self._give_up)

    def _give_up(self) -> None:
        for hook in self.give_up_hooks:
            hook()
        threads = self.threads
        if threads is not None and threads.abandon_pending():
            self._abandoned = self.cut_short = True
            logger.warning(
                "%d job(s) still in the thread pool %.1f s after the stop signal: answered "
                "503, their threads left to finish",
                threads.abandoned,
                self.shutdown_timeout,
            )

    def _on_block(self, block: LoopBlock) -> None:
        self.stats.loop_blocks[block.route] += 1
        self.stats.recent_blocks.append(block)
        logger.warning("%s", block.describe())
