"""The engine: one per app, owning its pools; invokers: callables compiled to run there."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from ._classify import ExecutionKind, classify
from ._pool import ThreadPool

_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Engine] = weakref.WeakKeyDictionary()


def engine_for_loop(loop: asyncio.AbstractEventLoop) -> Engine | None:
    """The started engine serving `loop`, if any."""
    return _engines.get(loop)


class Engine:
    """Owns the thread pool (and, when asked, the process pool) of one app in one process.

    The pools are made by `start()`, on the loop that serves requests, so that a forked
    server worker builds its own.
    """

    def __init__(self, sync_workers: int = 40, process_workers: int | None = None) -> None:
        self.sync_workers = sync_workers
        self.process_workers = process_workers
        self.loop: asyncio.AbstractEventLoop | None = None
        self.threads: ThreadPool | None = None
        self._processes: concurrent.futures.ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        return self.loop is not None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> ThreadPool:
        """Bind to `loop` (default: the running one) and make the thread pool."""
        loop = loop or asyncio.get_running_loop()
        if self.loop is loop and self.threads is not None:
            return self.threads
        if self.threads is not None:
            self.threads.shutdown(timeout=0)
        self.loop = loop
        self.threads = threads = ThreadPool(loop, self.sync_workers, "ambi-worker")
        _engines[loop] = self
        return threads

    def stop(self, timeout: float = 5.0) -> None:
        """Let queued jobs finish (up to `timeout` seconds) and release the pools."""
        if self.threads is not None:
            self.threads.shutdown(timeout)
            self.threads = None
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)
            self._processes = None
        if self.loop is not None:
            _engines.pop(self.loop, None)
        self.loop = None

    def run_in_thread(self, fn: Callable[..., Any], /, *args: Any) -> asyncio.Future[Any]:
        """Run a blocking `fn(*args)` in the thread pool; never on the loop."""
        threads = self.threads
        loop = asyncio.get_running_loop()
        if threads is None or threads.loop is not loop:
            # First use, or an app driven from another loop than before (tests that reuse
            # one app across event loops): the pool must hand results to *this* loop.
            threads = self.start(loop)
        return threads.submit(fn, *args)

    def run_in_process(self, fn: Callable[..., Any], /, *args: Any) -> asyncio.Future[Any]:
        """Run a picklable `fn(*args)` in the process pool (made on first use)."""
        if self._processes is None:
            self._processes = concurrent.futures.ProcessPoolExecutor(self.process_workers)
        loop = self.loop or asyncio.get_running_loop()
        return loop.run_in_executor(self._processes, fn, *args)


def _call_kwargs(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


class Invoker:
    """A user callable compiled for one engine: `await invoker(*args, **kwargs)`.

    The kind is decided once, here; calling never re-inspects the callable.
    """

    __slots__ = ("__call__", "engine", "fn", "kind", "name")

    def __init__(self, fn: Callable[..., Any], engine: Engine, run: str = "auto") -> None:
        self.fn = fn
        self.engine = engine
        self.kind = classify(fn, run)
        self.name: str = getattr(fn, "__qualname__", None) or repr(fn)
        call: Callable[..., Awaitable[Any]]
        if self.kind is ExecutionKind.ASYNC:
            call = fn
        elif self.kind is ExecutionKind.THREAD:
            call = self._thread
        elif self.kind is ExecutionKind.PROCESS:
            call = self._process
        else:
            call = self._inline
        self.__call__ = call

    def __repr__(self) -> str:
        return f"<Invoker {self.name} kind={self.kind.value}>"

    def _thread(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        if kwargs:
            return self.engine.run_in_thread(_call_kwargs, self.fn, args, kwargs)
        return self.engine.run_in_thread(self.fn, *args)

    def _process(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        fn = functools.partial(self.fn, **kwargs) if kwargs else self.fn
        return self.engine.run_in_process(fn, *args)

    async def _inline(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.copy_context().run(self.fn, *args, **kwargs)
