"""`app.enable_background_tasks(...)`: check the options once, build the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from ._current import Queue, register
from ._queue import TaskQueue
from ._status import TaskOptions

if TYPE_CHECKING:
    from ..app import App

_DISTRIBUTED_ONLY = ("visibility_timeout", "result_ttl", "queue_name")


def build_queue(
    app: App,
    workers: int,
    *,
    backend: str,
    max_queued: int,
    max_retries: int,
    timeout: float | None,
    backoff: float,
    max_backoff: float,
    shutdown_timeout: float | None,
    keep_results: int | None,
    visibility_timeout: float | None,
    result_ttl: float | None,
    queue_name: str | None,
) -> Queue:
    """The task queue `enable_background_tasks` asked for; `ConfigurationError` for an
    option that cannot work (or does not apply to that backend)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigurationError(f"workers must be a whole number >= 1, got {workers!r}")
    if max_queued < 1:
        raise ConfigurationError(f"max_queued must be >= 1, got {max_queued}")
    options = TaskOptions(
        max_retries=max_retries, timeout=timeout, backoff=backoff, max_backoff=max_backoff
    )
    drain = app.shutdown_timeout if shutdown_timeout is None else shutdown_timeout
    if drain < 0:
        raise ConfigurationError(f"shutdown_timeout must be >= 0 seconds, got {drain}")
    queue: Queue
    if backend == "memory":
        given = dict(
            visibility_timeout=visibility_timeout, result_ttl=result_ttl, queue_name=queue_name
        )
        extra = [name for name in _DISTRIBUTED_ONLY if given[name] is not None]
        if extra:
            raise ConfigurationError(
                f"{', '.join(extra)} apply to a distributed backend (redis:// or nats://), "
                "not to the in-process queue"
            )
        queue = TaskQueue(
            app.engine,
            workers=workers,
            max_queued=max_queued,
            options=options,
            keep_results=10_000 if keep_results is None else keep_results,
            shutdown_timeout=drain,
        )
    else:
        if keep_results is not None:
            raise ConfigurationError(
                "keep_results applies to the in-process queue; a distributed backend keeps "
                "results for result_ttl seconds"
            )
        from ._distributed import DistributedQueue

        queue = DistributedQueue(
            app,
            backend,
            workers=workers,
            max_queued=max_queued,
            options=options,
            shutdown_timeout=drain,
            visibility_timeout=300.0 if visibility_timeout is None else visibility_timeout,
            result_ttl=86_400.0 if result_ttl is None else result_ttl,
            queue_name=queue_name or "ambi",
        )
    register(app.engine, queue)
    from ..metrics._sources import add_metric_source

    add_metric_source(app, "background_tasks", queue.stats, replace=True)
    return queue
