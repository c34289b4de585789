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
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..execution import Engine, Invoker
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


_DONE: Any = object()


def _yielded_twice(gen: Any) -> RuntimeError:
    """The error for a dependency generator that yields again when resumed to finish."""
    return RuntimeError(f"dependency {getattr(gen, '__qualname__', gen)} yielded more than once")


def exit_batch(
    batch: Sequence[Exit], error: BaseException | None, report: Callable[[BaseException], None]
) -> BaseException | None:
    """Resume the sync generators of `batch` (entered in this order), last first, in one
    pool job, throwing `error` (the exception the request ended with) into each when there
    is one. A new exception one of them raises is given to `report` and thrown into the
    next ones."""
    for gen, _ in reversed(batch):
        try:
            if error is None:
                # PERF: `next` with a default: no StopIteration made for a generator that
                # finishes (GET /deps-sync in callgrind).
                if next(gen, _DONE) is _DONE:
                    continue
            else:
                gen.throw(error)
        except StopIteration:
            continue
        except Exception as exc:
            if exc is not error:
                report(exc)
                error = exc
            continue
        gen.close()
        error = _yielded_twice(gen)
        report(error)
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
            # PERF: resumed here, not in a coroutine of its own (GET /deps in callgrind).
            index -= 1
            try:
                if error is None:
                    await gen.__anext__()
                else:
                    await gen.athrow(error)
            except StopAsyncIteration:
                continue
            except Exception as exc:
                if exc is not error:
                    report(exc)
                    error = exc
                continue
            await gen.aclose()
            error = _yielded_twice(gen)
            report(error)
            continue
        end = index + 1
        while index >= 0 and not exits[index][1]:
            index -= 1
        error = await run_batch(exits[index + 1 : end], error, report)
    return error


class AfterResponse:
    """The after-send work of one request (made only when a route has some)."""

    __slots__ = ("done", "engine", "error", "exits", "label", "run_batch", "tasks")

    def __init__(
        self,
        engine: Engine,
        label: str,
        exits: list[Exit] | None = None,
        run_batch: Invoker | None = None,
    ) -> None:
        self.engine = engine
        self.label = label
        self.exits: list[Exit] = [] if exits is None else exits
        #: How the sync cleanups run: the route's cleanup `Invoker` (set by the route's
        #: dependencies), else on the pool's cleanup threads.
        self.run_batch = run_batch
        # PERF: no list until a request has background tasks (bench_instructions "GET
        # /deps-sync": its after-send work is a cleanup only).
        self.tasks: Sequence[TaskGroup] = ()
        self.error: BaseException | None = None
        self.done = False

    def add_tasks(self, group: TaskGroup) -> None:
        """Run `group` after the response, after the groups added before it."""
        self.tasks = [*self.tasks, group]

    def _report(self, exc: BaseException) -> None:
        _report(self.label, exc)

    async def run(self) -> None:
        self.done = True
        for group in self.tasks:
            await group.run_after(self.engine, self.label)
        if self.exits:
            run_batch: RunBatch = self.run_batch or functools.partial(
                self.engine.run_cleanup, exit_batch
            )
            try:
                await close_exits(self.exits, self.error, run_batch, self._report)
            except Exception:  # the pool is gone (shutdown): nothing more can be done
                logger.exception("dependency cleanup could not run in %s", self.label)

    def run_now(self) -> bool:
        """Do the work here and now if it allows (False: `await run()` instead): no
        background tasks, sync cleanups only, and those run inline at present (the route's
        cleanup was proven trivial: adaptive inline)."""
        # PERF: no coroutine per layer for the usual after-send work of a def route with a
        # generator dependency (bench_instructions "GET /deps-sync").
        run_batch = self.run_batch
        if self.tasks or run_batch is None:
            return False
        adaptive = run_batch.adaptive
        if adaptive is None or adaptive.state != "inline":
            return False
        exits = self.exits
        for _, is_async in exits:
            if is_async:
                return False
        self.done = True
        try:
            adaptive.call_now(exit_batch, exits, self.error, self._report)
        except Exception:
            logger.exception("dependency cleanup could not run in %s", self.label)
        return True


class PendingExit:
    """A route's one request-scoped dependency with `yield`, when it is all the after-send
    work the route makes: its entered generator `gen` is left on the request as the pair
    `(pending_exit, gen)`, not in an `AfterResponse` (made from the pair only if the
    request needs one after all: an error to throw in, background tasks; see `pending`).

    `Request.finish` asks `run_now(request, gen)` (a `def` generator's cleanup, inline at
    present: done there and then), else awaits `run(gen)`."""

    # PERF: a pair instead of an `AfterResponse` per request, the generator resumed with
    # no `exit_batch` frame, an async one with no `close_exits` coroutine
    # (bench_instructions "GET /deps-sync", "GET /deps").

    __slots__ = ("_report", "adaptive", "cleanup", "engine", "is_async", "label")

    def __init__(self, engine: Engine, label: str, cleanup: Invoker, is_async: bool) -> None:
        self.engine = engine
        self.label = label
        self.cleanup = cleanup
        self.is_async = is_async
        #: The cleanup's adaptive state, for a sync generator (None: always in the pool).
        self.adaptive = None if is_async else cleanup.adaptive
        self._report = functools.partial(_report, label)

    def upgrade(self, gen: Any) -> AfterResponse:
        """The `AfterResponse` the pair stands for."""
        return AfterResponse(self.engine, self.label, [(gen, self.is_async)], self.cleanup)

    def run_now(self, request: Request, gen: Any) -> bool:
        """`AfterResponse.run_now` for the pair: a sync generator's cleanup run here and
        now when the route's cleanup runs inline at present; else False (`await run`)."""
        adaptive = self.adaptive
        if adaptive is None or adaptive.state != "inline":
            return False
        try:
            if adaptive.step_now(gen, _DONE) is _DONE:
                return True
            adaptive.call_now(gen.close)
        except Exception as exc:
            self._report(exc)
            return True
        self._report(_yielded_twice(gen))
        return True

    async def run(self, gen: Any) -> None:
        """`AfterResponse.run` for the pair."""
        if not self.is_async:  # its cleanup in the pool (or no longer inline)
            await self.upgrade(gen).run()
            return
        try:  # as `close_exits` resumes an async generator
            await gen.__anext__()
        except StopAsyncIteration:
            return
        except Exception as exc:
            self._report(exc)
            return
        await gen.aclose()
        self._report(_yielded_twice(gen))


def _report(label: str, exc: BaseException) -> None:
    logger.error("dependency cleanup failed in %s", label, exc_info=exc)


def pending(request: Request) -> AfterResponse | None:
    """The after-send work of `request` as an `AfterResponse` (made from a `PendingExit`
    pair when that is what the request holds), or None."""
    after = request._after
    if type(after) is tuple:
        after = request._after = after[0].upgrade(after[1])
    return after  # type: ignore[no-any-return]


def after_response(request: Request, label: str | None = None) -> AfterResponse:
    """The after-send work of `request`, made on first use (`label` names the route in
    logs)."""
    after = pending(request)
    if after is None:
        after = AfterResponse(request.app.engine, label or f"{request.method} {request.path}")
        request._after = after
    return after
