"""Single flight: concurrent misses on one key run the computation once, in this process."""

from __future__ import annotations

import asyncio
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Flights(Generic[T]):
    """For coroutines. `leader, future = flights.join(key)`: the leader computes, then
    `flights.done(key, future, shared)`; the others `await asyncio.shield(future)` and get
    `shared` (None: the leader had nothing to share, so they compute themselves)."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[str, asyncio.Future[T | None]] = {}

    def join(self, key: str) -> tuple[bool, asyncio.Future[T | None] | None]:
        loop = asyncio.get_running_loop()
        future = self._calls.get(key)
        if future is None:
            future = self._calls[key] = loop.create_future()
            return True, future
        if future.get_loop() is not loop:
            return True, None  # a leader on another loop: compute alone
        return False, future

    def done(self, key: str, future: asyncio.Future[T | None] | None, shared: T | None) -> None:
        """End the leader's flight (also when it failed or was cancelled: `shared` None)."""
        if future is None:
            return
        if self._calls.get(key) is future:
            del self._calls[key]
        if not future.done():
            future.set_result(shared)


class _Call(Generic[T]):
    __slots__ = ("event", "result")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.result: T | None = None


class SyncFlights(Generic[T]):
    """For blocking code in threads: `leader, call = flights.wait_or_lead(key)`; the leader
    computes, then `flights.done(key, call, shared)`; the others wait in `wait_or_lead`
    and find `call.result` (None: the leader had nothing to share, compute yourself)."""

    __slots__ = ("_calls", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call[T]] = {}

    def wait_or_lead(self, key: str) -> tuple[bool, _Call[T]]:
        with self._lock:
            call = self._calls.get(key)
            if call is None:
                call = self._calls[key] = _Call()
                return True, call
        call.event.wait()
        return False, call

    def done(self, key: str, call: _Call[T], shared: T | None) -> None:
        call.result = shared
        with self._lock:
            if self._calls.get(key) is call:
                del self._calls[key]
        call.event.set()
