"""What every task queue shares: a task's status record, its options, the retry backoff."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from ..exceptions import ConfigurationError

State = Literal["queued", "running", "done", "failed"]

#: Who decides how long to wait before retry `n` (1, 2, ...): `backoff * 2**(n-1)`, capped at
#: `max_backoff`, then "full jitter" (a uniform draw in [0, that]) so that many tasks failing
#: together do not come back together.
_rng = random.Random()


def new_task_id() -> str:
    """A task id: 32 hex digits, unique across processes and machines."""
    return uuid.uuid4().hex


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry)."""
    return _rng.uniform(0.0, min(cap, base * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """How one task runs: when (`delay`), how often it may fail (`max_retries`), for how long
    (`timeout`), and the backoff between its attempts."""

    delay: float = 0.0
    max_retries: int = 0
    timeout: float | None = None
    backoff: float = 1.0
    max_backoff: float = 60.0

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ConfigurationError(f"delay must be >= 0 seconds, got {self.delay}")
        if self.max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {self.timeout}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ConfigurationError("backoff and max_backoff must be >= 0 seconds")

    def merged(
        self,
        delay: float | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
    ) -> TaskOptions:
        """These options with the per-task ones that were given."""
        changes: dict[str, Any] = {}
        if delay is not None:
            changes["delay"] = delay
        if max_retries is not None:
            changes["max_retries"] = max_retries
        if timeout is not None:
            changes["timeout"] = timeout
        return replace(self, **changes) if changes else self


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """A snapshot of one task.

    `state` is `queued` (waiting for its time, a free worker, or its next attempt),
    `running`, `done` (`result` holds what it returned) or `failed` (`error` says why, as
    `"ExceptionType: message"`, after its last attempt). Times are Unix timestamps:
    `enqueued_at`, `started_at` (of the latest attempt) and `finished_at`.
    """

    id: str
    name: str
    state: State
    attempts: int = 0
    result: Any = None
    error: str | None = None
    enqueued_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def duration(self) -> float | None:
        """Seconds the latest attempt ran, once it ended."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskStatus:
        return cls(**data)


def describe_error(exc: BaseException) -> str:
    """`"Type: message"` for a task's status."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def now() -> float:
    return time.time()


def task_name(fn: Any) -> str:
    """`module.qualname` of a callable, for logs and status records."""
    module = getattr(fn, "__module__", None) or "?"
    qualname = getattr(fn, "__qualname__", None) or repr(fn)
    return f"{module}.{qualname}"
