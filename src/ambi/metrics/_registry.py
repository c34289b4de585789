"""`app.metrics()`: one app's measurements, gathered into one snapshot.

Request counters live in `RouteMetrics` (filled by the route stage); gauges (the thread
pool, the process pool) are read when a snapshot is taken, so they cost the requests
nothing. Other features add their own numbers with `add_source(name, fn)`: that is the
hook for the execution engine's counters (rejections under backpressure, loop lag,
blocking incidents), background tasks, rate limits and cache hits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError
from ._route import RouteMetrics
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
    stats = {"max_workers": engine.sync_workers, "threads": 0, "busy": 0, "queued": 0}
    if threads is None:
        return stats
    size = threads.size
    # Approximate by nature (read while workers run); never negative.
    idle = threads._idle._value
    stats.update(
        max_workers=threads.max_workers,
        threads=size,
        busy=max(0, size - idle),
        queued=threads._jobs.qsize(),
    )
    extra = getattr(threads, "stats", None)
    if callable(extra):
        stats.update(extra())
    return stats


class Metrics:
    """The measurements of one app in one process (`app.enable_metrics()` makes it)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.pid = os.getpid()
        self.routes: dict[str, RouteMetrics] = {}
        self._sources: dict[str, Source] = {}

    def for_route(self, route: CompiledRoute) -> RouteMetrics:
        """The counters of `route` (the app's dispatch fills them): every route has some."""
        methods = "/".join(sorted(route.definition.methods))
        metrics = self.routes.get(route.label)
        if metrics is None:  # an app started twice keeps its counts
            metrics = self.routes[route.label] = RouteMetrics(methods, route.definition.path)
        return metrics

    def add_source(self, name: str, fn: Source) -> None:
        """Add `fn()`'s result to every snapshot under `name` (a JSON-able value)."""
        if name in self._sources or name in _RESERVED:
            raise ConfigurationError(f"a metrics source named {name!r} exists already")
        self._sources[name] = fn

    def snapshot(self) -> dict[str, Any]:
        routes = [m.snapshot() for m in self.routes.values()]
        data: dict[str, Any] = {
            "enabled": True,
            "pid": self.pid,
            "total_requests": sum(r["requests"] for r in routes),
            "in_flight": sum(r["in_flight"] for r in routes),
            "routes": routes,
        }
        data.update(runtime_snapshot(self.app))
        for name, fn in self._sources.items():
            data[name] = fn()
        return data


_RESERVED = frozenset(
    {"enabled", "pid", "total_requests", "in_flight", "routes", "handlers", "thread_pool",
     "process_pool"}
)  # fmt: skip


def runtime_snapshot(app: App) -> dict[str, Any]:
    """What is known without the route stage: the handlers and the pools."""
    engine = app.engine
    stats = handler_stats(app)
    return {
        "handlers": {k: stats[k] for k in ("total_handlers", "sync_handlers", "async_handlers",
                                           "by_kind")},
        "thread_pool": thread_pool_stats(engine),
        "process_pool": {
            "max_workers": engine.process_workers or os.cpu_count() or 1,
            "started": engine.processes is not None,
        },
    }  # fmt: skip


def disabled_snapshot(app: App) -> dict[str, Any]:
    """`app.metrics()` when metrics are off: the handlers and pools, no request counts."""
    return {"enabled": False, "pid": os.getpid(), **runtime_snapshot(app)}
