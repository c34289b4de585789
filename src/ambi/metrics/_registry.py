"""`app.metrics()`: one app's measurements, gathered into one snapshot.

Request counters live in `RouteMetrics` (filled by the route stage); gauges and the
engine's counters (the thread pool and its 503 rejections, the process pool, the loop's
lag and stalls by route, `max_concurrency` and `timeout` refusals) are read when a
snapshot is taken, so they cost the requests nothing. Features that are on add their
numbers as sources (`_sources.py`): the background task queue, the cache, rate limits;
user code adds its own with `add_source(name, fn)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._route import RouteMetrics
from ._sources import (
    add_metric_source,
    event_loop_stats,
    process_pool_stats,
    route_engine_counts,
    source_values,
)
from ._stats import handler_stats

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..app import App
    from ..execution import Engine

Source = Callable[[], Any]


def thread_pool_stats(engine: Engine) -> dict[str, int]:
    """Size, busy and queued of the app's thread pool (zeros before it starts).

    Hook for the execution engine: when the pool has a `stats()` method (backpressure
    counters: rejected, ...), its mapping is merged in.
    """
    threads = engine.threads
    stats = {"max_workers": engine.sync_workers, "threads": 0, "busy": 0, "queued": 0,
             "rejected": rejected_total(engine)}  # fmt: skip
    if threads is None:
        return stats
    size = threads.size
    # Approximate by nature (read while workers run); never negative.
    idle = threads.idle
    stats.update(
        max_workers=threads.max_workers,
        threads=size,
        busy=max(0, size - idle),
        queued=threads.queued,
    )
    extra = getattr(threads, "stats", None)
    if callable(extra):
        stats.update(extra())
    return stats


def rejected_total(engine: Engine) -> int:
    """Requests answered 503 because the thread pool's queue was full."""
    return sum(engine.stats.rejected.values())


class Metrics:
    """The measurements of one app in one process (`app.enable_metrics()` makes it)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.pid = os.getpid()
        self.routes: dict[str, RouteMetrics] = {}
        #: made by `enable_dashboard`: a later `enable_metrics(path=...)` adds its endpoint
        self.implicit = False

    def for_route(self, route: CompiledRoute) -> RouteMetrics:
        """The counters of `route` (the app's dispatch fills them): every route has some."""
        methods = "/".join(sorted(route.definition.methods))
        metrics = self.routes.get(route.label)
        if metrics is None:  # an app started twice keeps its counts
            metrics = self.routes[route.label] = RouteMetrics(methods, route.definition.path)
        return metrics

    def add_source(self, name: str, fn: Source) -> None:
        """Add `fn()`'s result to every snapshot under `name` (a JSON-able value)."""
        add_metric_source(self.app, name, fn)

    def snapshot(self) -> dict[str, Any]:
        engine = self.app.engine
        routes = []
        for label, m in self.routes.items():
            route = m.snapshot()
            route.update(route_engine_counts(engine, label))
            routes.append(route)
        data: dict[str, Any] = {
            "enabled": True,
            "pid": self.pid,
            "total_requests": sum(r["requests"] for r in routes),
            "in_flight": sum(r["in_flight"] for r in routes),
            "routes": routes,
        }
        data.update(runtime_snapshot(self.app))
        return data


def runtime_snapshot(app: App) -> dict[str, Any]:
    """What is known without the route stage: the handlers and the pools."""
    engine = app.engine
    stats = handler_stats(app)
    return {
        "handlers": {k: stats[k] for k in ("total_handlers", "sync_handlers", "async_handlers",
                                           "by_kind")},
        "thread_pool": thread_pool_stats(engine),
        "process_pool": process_pool_stats(engine),
        "event_loop": event_loop_stats(engine),
        **source_values(app),
    }  # fmt: skip


def disabled_snapshot(app: App) -> dict[str, Any]:
    """`app.metrics()` when metrics are off: the handlers and pools, no request counts."""
    return {"enabled": False, "pid": os.getpid(), **runtime_snapshot(app)}
