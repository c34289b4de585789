"""`BackgroundTasks`: work that runs after the response of the current request is sent.

Two spellings, one behaviour:

- FastAPI's: a `background_tasks: BackgroundTasks` parameter of a handler or dependency
  (all of them share one object per request);
- Cello's: `tasks = BackgroundTasks()` created inside a handler while it serves a request
  (it attaches itself to that request; it need not be returned).

Tasks run in the order they were added, each through `ambi.execution` (sync ones in the
thread pool, async ones on the loop), after the client has its whole response and before
the cleanup of dependencies with `yield` (so a task can still use a session a dependency
provided). A failing task is logged with its traceback and the route; the next one still
runs. Created outside any request, `BackgroundTasks()` is a plain list of work that
`await tasks()` runs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec

from .._pipeline import after_response
from .._signature import register_injectable
from .._spans import parent_context, traced_task
from ..execution import Engine, Invoker, engine_for_loop
from ..http import Request
from ..http._context import current_request

if TYPE_CHECKING:
    from .._pipeline import AfterResponse

logger = logging.getLogger("ambi.background")

P = ParamSpec("P")


class BackgroundTasks:
    """A list of calls to make once the response has been sent."""

    __slots__ = ("_shared", "tasks")

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self._shared = False
        request = current_request()
        if request is not None:
            after = after_response(request)
            if not after.done:  # not created by the request's own background work
                after.add_tasks(self)

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Call `func(*args, **kwargs)` after the response (sync or async `func`)."""
        if not callable(func):
            raise TypeError(f"add_task() takes a callable, not {func!r}")
        self.tasks.append((func, args, kwargs))

    async def run_after(self, engine: Engine, label: str) -> None:
        """Run every task in order; log (and step over) the ones that fail."""
        tasks, self.tasks = self.tasks, []
        tracer = engine.tracer
        for func, args, kwargs in tasks:
            invoker = Invoker(func, engine)
            try:
                if tracer is None:
                    await invoker(*args, **kwargs)
                else:  # app.enable_tracing(): a span under the request's
                    await traced_task(
                        tracer,
                        f"background {invoker.name}",
                        parent_context(),
                        {"ambi.task.kind": invoker.kind.value},
                        functools.partial(invoker, *args, **kwargs),
                    )
            except Exception:
                logger.exception("background task %s failed (after %s)", invoker.name, label)

    async def __call__(self) -> None:
        """Run the tasks now (for a `BackgroundTasks` made outside a request): in the
        running app's engine, or in a short-lived one."""
        engine = engine_for_loop(asyncio.get_running_loop())
        if engine is not None:
            await self.run_after(engine, "BackgroundTasks()")
            return
        engine = Engine(sync_workers=4)
        engine.start()
        try:
            await self.run_after(engine, "BackgroundTasks()")
        finally:
            engine.stop()

    def __len__(self) -> int:
        return len(self.tasks)

    def __repr__(self) -> str:
        return f"<BackgroundTasks {len(self.tasks)} task(s)>"


def _shared_tasks(request: Request) -> BackgroundTasks:
    """The one `BackgroundTasks` that every parameter of one request receives."""
    after: AfterResponse = after_response(request)
    for group in after.tasks:
        if isinstance(group, BackgroundTasks) and group._shared:
            return group
    tasks = BackgroundTasks.__new__(BackgroundTasks)
    tasks.tasks = []
    tasks._shared = True
    after.add_tasks(tasks)
    return tasks


register_injectable(BackgroundTasks, _shared_tasks)
