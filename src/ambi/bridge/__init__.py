"""Sync <-> async in both directions: `smartasync` and `run_sync`.

One `async def` implementation, callable from both worlds::

    @smartasync
    async def fetch(url: str) -> dict: ...

    data = fetch(url)          # sync code: runs it, returns the dict
    data = await fetch(url)    # async code: the coroutine, awaited as usual
    data = fetch.sync(url)     # always runs it: a result or an error, never a coroutine
    data = await fetch.aio(url)  # always the coroutine

It works on functions and on instance, class and static methods; on async generators (a
sync caller gets an iterator) and async context managers (a sync caller gets a context
manager); and on plain `def` functions (an async caller gets them run in a thread).

Where a sync call runs
----------------------
Decided per call from the calling thread alone: there is no shared cache to race on.

1. **An ambi worker thread** (a sync handler, dependency, hook or background task, or a
   function handed to `run_sync`): the coroutine runs on the app's own loop and only the
   worker waits, so objects made on that loop at startup (pools, locks, clients) work.
2. **Any other thread with no running loop** (a script, a CLI, a plain thread, an
   `asyncio.to_thread` worker): on a loop private to that thread, made on first use and
   reused by every later call, closed when the thread ends (the main thread's: at exit).
3. **A thread whose loop is running** (sync code called from inside async code): waiting
   here would stall that loop, or deadlock it. `f.sync()` raises `BridgeError` naming `f`
   and the fix. A plain `f()` cannot tell this caller from async code, which also runs on
   a loop thread, so it returns the coroutine, as `await f()` needs; misused, that
   coroutine is never awaited and Python warns about it.

contextvars flow into the coroutine and its changes flow back to the sync caller;
exceptions keep their type and traceback; Ctrl-C during a sync call cancels the coroutine,
waits for its `finally` blocks, then raises `KeyboardInterrupt`.

Timeouts: `@smartasync(timeout=5)`, `f(..., timeout=5)` or `f.with_timeout(5)(...)` cancel
the coroutine when it runs over, wait for its `finally` blocks, then raise `TimeoutError`,
for sync and async callers alike. The per-call keyword is the bridge's only when `f` has no
`timeout` parameter (nor `**kwargs`) of its own, so it never steals one; `with_timeout()`
always works and keeps static types exact. For an async generator or context manager used
from sync code, the timeout bounds each step (each `next()`, the enter, the exit).

Async generators and context managers used from sync code run in one task on the chosen
loop, all their steps included, as under `async for` / `async with`: `asyncio.timeout()`,
cancel scopes and task-bound state inside them work. Closing the iterator (or dropping it
unfinished) runs `aclose()` on that loop.

The other direction: `await run_sync(fn, *args, **kwargs)` runs a blocking function in the
app's thread pool (outside an app: a default pool), marked as a worker so case 1 applies to
any `smartasync` call inside it.

Typing: `f.sync(...)` is typed as the coroutine's result, `f.aio(...)` as the coroutine, both
with `f`'s parameters; a plain `f(...)` is `Any`, as what it gives depends on the caller.
The per-call `timeout=` keyword is not in the static signature (`with_timeout()` is). mypy
types `@smartasync` stacked on `@classmethod` / `@staticmethod` well only through instances.
"""

from ._decorator import (
    BoundSmartFunction,
    SmartClassMethod,
    SmartFunction,
    SmartStaticMethod,
    smartasync,
)
from ._run_sync import run_sync
from ._sessions import SyncContextManager, SyncIterator

__all__ = [
    "BoundSmartFunction",
    "SmartClassMethod",
    "SmartFunction",
    "SmartStaticMethod",
    "SyncContextManager",
    "SyncIterator",
    "run_sync",
    "smartasync",
]
