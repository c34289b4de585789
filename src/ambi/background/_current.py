"""Finding the current app's task queue, for `schedule_task` and `current_tasks`.

No context variable is set per request (a route that does not use tasks pays nothing):
the queue is found from the thread or loop the caller runs on. A sync handler, dependency
or task runs in a worker thread marked with its app's loop; async code runs on that loop;
either way the loop leads to the app's engine (`ambi.execution.engine_for_loop`), and the
engine to its queue. Outside any app (a script, a test before startup) the one queue of the
process is used when there is exactly one.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from ..exceptions import ConfigurationError
from ..execution import Engine, current_worker_loop, engine_for_loop
from ._status import TaskStatus


class Queue(Protocol):
    """What both task queues (in-process and distributed) offer."""

    backend: str

    def add_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> str: ...

    def submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        delay: float | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
    ) -> str: ...

    def status(self, task_id: str) -> Any: ...

    def wait(self, task_id: str, timeout: float | None = None) -> Any: ...

    def flush(self, timeout: float | None = None) -> Any: ...
    def stats(self) -> dict[str, Any]: ...

    async def start(self) -> None: ...

    async def shutdown(self) -> None: ...


_queues: weakref.WeakKeyDictionary[Engine, Queue] = weakref.WeakKeyDictionary()


def register(engine: Engine, queue: Queue) -> None:
    _queues[engine] = queue


def current_queue() -> Queue:
    """The task queue of the app the caller runs in; `ConfigurationError` if none."""
    loop = current_worker_loop() or asyncio._get_running_loop()
    engine = engine_for_loop(loop) if loop is not None else None
    queue = _queues.get(engine) if engine is not None else None
    if queue is not None:
        return queue
    if len(_queues) == 1:
        return next(iter(_queues.values()))
    raise ConfigurationError(
        "no current app with background tasks: call app.enable_background_tasks() and "
        "schedule tasks from code the app runs (or use app.add_task directly)"
        if not _queues
        else "several apps have background tasks and this code runs in none of them: "
        "use app.add_task on the one you mean"
    )


def schedule_task(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> str:
    """Queue `fn(*args, **kwargs)` on the current app's task queue; return the task id."""
    return current_queue().add_task(fn, *args, **kwargs)


class CurrentTasks:
    """The current app's task queue, found at each call (see `current_queue`).

    `current_tasks.add_task(fn, *args, **kwargs)` returns a task id; `submit` takes per-task
    options; `status(id)` / `wait(id)` / `flush()` are awaited in async code and called
    plainly in sync code.
    """

    __slots__ = ()

    def add_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> str:
        return current_queue().add_task(fn, *args, **kwargs)

    def submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        delay: float | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
    ) -> str:
        return current_queue().submit(
            fn, args, kwargs, delay=delay, max_retries=max_retries, timeout=timeout
        )

    def status(self, task_id: str) -> TaskStatus | Any | None:
        return current_queue().status(task_id)

    def wait(self, task_id: str, timeout: float | None = None) -> TaskStatus | Any:
        return current_queue().wait(task_id, timeout)

    def flush(self, timeout: float | None = None) -> Any:
        return current_queue().flush(timeout)

    def __repr__(self) -> str:
        return "<current app's task queue>"


current_tasks = CurrentTasks()
