"""The timeouts of `smartasync` calls: a sync call's (`_Deadline`, on the loop) and an async
one's (`_timed`), with the note both add to their TimeoutError."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from ..exceptions import ConfigurationError

T = TypeVar("T")


def _check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def _timeout_note(name: str, seconds: float) -> str:
    return f"{name} did not finish within {seconds:g} s (ambi.smartasync)"


async def _timed(aw: Awaitable[T], seconds: float, name: str) -> T:
    """For async callers: `await aw`, cancelled after `seconds`; its `finally` blocks run
    before TimeoutError is raised (sync callers get the same from `_Deadline`)."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await aw
    except TimeoutError as exc:
        if deadline.expired():
            exc.add_note(_timeout_note(name, seconds))
        raise


class _Deadline:
    """A sync call's timeout, on the loop: cancels the task when it expires.

    The task then runs its `finally` blocks; the caller, seeing it cancelled with the
    deadline expired, raises TimeoutError. No wrapping coroutine is made, so nothing is
    left un-awaited if the call is refused before it starts.
    """

    __slots__ = ("expired", "handle", "seconds", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], seconds: float):
        self.expired = False
        self.task = task
        self.seconds = seconds
        self.handle = loop.call_later(seconds, self._expire)

    def _expire(self) -> None:
        self.expired = True
        self.task.cancel()

    def timed_out(self, name: str) -> TimeoutError | None:
        """The error to raise instead of the task's outcome, if the deadline cancelled it."""
        if not (self.expired and self.task.cancelled()):
            return None
        error = TimeoutError()
        error.add_note(_timeout_note(name, self.seconds))
        return error
