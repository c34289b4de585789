"""Work that runs after a response has been sent: background tasks, then the cleanup of
dependencies with `yield` (request scope), in reverse order.

The order is documented and tested: the client has its whole response first; then the
request's background tasks run, in the order they were added (so they can still use what
the dependencies provide, e.g. a database session); then each dependency's code after
`yield` runs, the last one entered first. Consecutive sync cleanups go to the thread pool
in one trip. A failure in either is logged with the route and never changes what was
sent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..execution import Engine
    from ..http import Request

logger = logging.getLogger("ambi.app")

#: One entered dependency: its suspended generator, and whether it is async.
Exit = tuple[Any, bool]
#: Runs `exit_batch(batch, error, report)` where sync code runs (the pool, or inline once
#: proven trivial: the route's cleanup `Invoker`); gives what `exit_batch` returns.
RunBatch = Callable[..., Awaitable[Any]]


class TaskGroup(Protocol):
    """What `BackgroundTasks` offers the after-response runner."""

    async def run_after(self, engine: Engine, label: str) -> None: ...


# PERF: dependency generators are driven directly, not through contextlib's context
# managers (one object and three calls fewer per dependency; GET /deps in callgrind).


def _name(gen: Any) -> str:
    return str(getattr(gen, "__qualname__", gen))


def enter_sync(gen: Generator[Any, None, None]) -> Any:
    """Run a dependency's generator up to its `yield`; the value it yields."""
    try:
        return next(gen)
    except StopIteration:
        raise RuntimeError(f"dependency {_name(gen)} did not yield") from None


def _exit_sync(gen: Generator[Any, None, None], error: BaseException | None) -> None:
    """Resume a dependency's generator after its `yield`, throwing `error` into it when the
    request failed. Raises what the generator raises; returns when it finished."""
    try:
        if error is None:
            next(gen)
        else:
            gen.throw(error)
    except StopIteration:
        return
    gen.close()
    raise RuntimeError(f"dependency {_name(gen)} yielded more than once")


async def _exit_async(gen: AsyncGenerator[Any, None], error: BaseException | None) -> None:
    try:
        if error is None:
            await gen.__anext__()
        else:
            await gen.athrow(error)
    except StopAsyncIteration:
        return
    await gen.aclose()
    raise RuntimeError(f"dependency {_name(gen)} yielded more than once")


def exit_batch(
    batch: Sequence[Any], error: BaseException | None, report: Callable[[BaseException], None]
) -> BaseException | None:
    """Resume the sync generators of `batch` in order, in one pool job."""
    for gen in batch:
        try:
            _exit_sync(gen, error)
        except Exception as exc:
            if exc is not error:
                report(exc)
                error = exc
    return error


async def close_exits(
    exits: list[Exit],
    error: BaseException | None,
    run_batch: RunBatch,
    report: Callable[[BaseException], None],
) -> BaseException | None:
    """Exit every entered dependency, last first, passing `error` (the exception the
    request ended with) into each; consecutive sync ones in one `run_batch(exit_batch,
    ...)`. Returns the exception to carry on with: `error`, or a new one a cleanup raised
    (each new one is also given to `report`)."""
    index = len(exits) - 1
    while index >= 0:
        gen, is_async = exits[index]
        if is_async:
            index -= 1
            try:
                await _exit_async(gen, error)
            except Exception as exc:
                if exc is not error:
                    report(exc)
                    error = exc
            continue
        batch = []
        while index >= 0 and not exits[index][1]:
            batch.append(exits[index][0])
            index -= 1
        error = await run_batch(batch, error, report)
    return error


class AfterResponse:
    """The after-send work of one request (made only when a route has some)."""

    __slots__ = ("done", "engine", "error", "exits", "label", "run_batch", "tasks")

    def __init__(self, engine: Engine, label: str) -> None:
        self.engine = engine
        self.label = label
        self.exits: list[Exit] = []
        #: How the sync cleanups run (set by the route's dependency runner).
        self.run_batch: RunBatch = functools.partial(engine.run_cleanup, exit_batch)
        self.tasks: list[TaskGroup] = []
        self.error: BaseException | None = None
        self.done = False

    def _report(self, exc: BaseException) -> None:
        logger.error("dependency cleanup failed in %s", self.label, exc_info=exc)

    async def run(self) -> None:
        self.done = True
        for group in self.tasks:
            await group.run_after(self.engine, self.label)
        if self.exits:
            try:
                await close_exits(self.exits, self.error, self.run_batch, self._report)
            except Exception:  # the pool is gone (shutdown): nothing more can be done
                logger.exception("dependency cleanup could not run in %s", self.label)


def after_response(request: Request, label: str | None = None) -> AfterResponse:
    """The after-send work of `request`, made on first use (`label` names the route in
    logs)."""
    after: AfterResponse | None = request._after
    if after is None:
        after = AfterResponse(request.app.engine, label or f"{request.method} {request.path}")
        request._after = after
    return after
