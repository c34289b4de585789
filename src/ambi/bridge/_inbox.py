"""Coroutines handed from worker threads to their app's loop, started in batches.

A worker thread that calls `smartasync` queues its hand-off (`ambi.bridge._loops._Handoff`)
in the inbox of its app's loop and wakes the loop only when no wake-up is pending; the loop
then starts everything queued at once.

# PERF: under load many workers hand coroutines over between two turns of the loop; one
# `call_soon_threadsafe` (a handle, and on asyncio's own loop a write to its self-pipe,
# a system call that also lets go of the GIL) then starts them all, where each used to
# make its own. On asyncio's loop, 64 in flight: 28.9-30.3 -> 26.6-27.3 CPU us a request;
# on uvloop (whose wake-ups coalesce already) no change measured.
# benchmarks/bench_request.py --cpu --concurrency 64 "GET /bridge-sync" [--uvloop].
"""

from __future__ import annotations

import asyncio
import collections
import threading
import weakref
from typing import Protocol


class Startable(Protocol):
    """A hand-off: started on the loop's thread, or refused if the loop is gone."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None: ...

    def refuse(self) -> None: ...


class Inbox:
    """The hand-offs waiting to be started on one loop (referred to weakly: the registry
    of inboxes must not keep a loop alive)."""

    __slots__ = ("__weakref__", "_items", "_pending", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)
        self._items: collections.deque[Startable] = collections.deque()
        self._pending = False  # a wake-up of the loop is on its way

    def put(self, item: Startable) -> None:
        """From a worker thread: `item.start(loop)` will run on the loop's thread, or, if
        the loop is closed, `item.refuse()` runs now (with every item queued behind it)."""
        self._items.append(item)
        loop = self.loop()
        if self._pending and loop is not None and not loop.is_closed():
            return  # the wake-up on its way starts this one too
        # (a wake-up queued on a loop that closed before running it is lost with the loop)
        self._pending = True
        try:
            if loop is None:
                raise RuntimeError("the loop is gone")
            loop.call_soon_threadsafe(self._start_all)
        except RuntimeError:  # the loop is closed: nothing queued will ever start
            self._pending = False  # first: an item queued from now on takes this path too
            self._refuse_all()

    def _start_all(self) -> None:
        """On the loop: start every hand-off queued since the last wake-up."""
        self._pending = False  # first: an item queued from now on wakes the loop again
        items = self._items
        loop = self.loop()
        assert loop is not None  # it is running this
        while items:
            items.popleft().start(loop)

    def _refuse_all(self) -> None:
        items = self._items
        while True:
            try:
                item = items.popleft()
            except IndexError:
                return
            item.refuse()


_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Inbox] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_last = threading.local()  # .inbox: a weak reference to the inbox this thread used last


def inbox_for(loop: asyncio.AbstractEventLoop) -> Inbox:
    """The inbox of `loop` (made on first use); each thread remembers the last it used.
    Weakly: a thread that outlives its app's loop does not keep it alive."""
    ref: weakref.ref[Inbox] | None = getattr(_last, "inbox", None)
    inbox = ref() if ref is not None else None
    if inbox is not None and inbox.loop() is loop:
        return inbox
    with _lock:
        inbox = _inboxes.get(loop)
        if inbox is None:
            inbox = _inboxes[loop] = Inbox(loop)
    _last.inbox = weakref.ref(inbox)
    return inbox
