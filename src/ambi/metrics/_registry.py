"""`app.metrics()`: one app's measurements, gathered into one snapshot.

Request counters live in `RouteMetrics` (appended to by the app's dispatch, folded into
histograms here: when a snapshot is taken, and once a second on the app's loop so that
what waits stays small); the requests in flight are counted when a snapshot is taken,
from the requests the app's loop serves now. Gauges and the engine's counters (the
thread pool and its 503 rejections, the process pool, the loop's lag and stalls by route,
`max_concurrency` and `timeout` refusals) are read then too, so they cost the requests
nothing. Features that are on add their numbers as sources (`_sources.py`): the
background task queue, the cache, rate limits; user code adds its own with
`add_source(name, fn)`.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..servers._shutdown import requests_in_flight
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


#: Seconds between two folds of the latencies requests appended (`Metrics.fold`): what
#: waits to be counted is at most this many seconds of requests.
FOLD_INTERVAL = 1.0


class Metrics:
    """The measurements of one app in one process (`app.enable_metrics()` makes it)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.pid = os.getpid()
        self.routes: dict[str, RouteMetrics] = {}
        #: made by `enable_dashboard`: a later `enable_metrics(path=...)` adds its endpoint
        self.implicit = False
        #: held to fold, and to read the counters whole (snapshots come from any thread)
        self.lock = threading.RLock()
        self._timer: asyncio.TimerHandle | None = None

    def for_route(self, route: CompiledRoute) -> RouteMetrics:
        """The counters of `route` (the app's dispatch fills them): every route has some.
        Called as the app is put together (`freeze`), on its loop: the folds start."""
        methods = "/".join(sorted(route.definition.methods))
        metrics = self.routes.get(route.label)
        if metrics is None:  # an app started twice keeps its counts
            metrics = self.routes[route.label] = RouteMetrics(methods, route.definition.path)
        self._start_folding()
        return metrics

    def add_source(self, name: str, fn: Source) -> None:
        """Add `fn()`'s result to every snapshot under `name` (a JSON-able value)."""
        add_metric_source(self.app, name, fn)

    # Folding ------------------------------------------------------------------------------

    def fold(self) -> None:
        """Count what the requests appended since the last fold (from any thread)."""
        with self.lock:
            for metrics in list(self.routes.values()):
                metrics.fold()

    def _start_folding(self) -> None:
        loop = asyncio._get_running_loop()
        if loop is None or (self._timer is not None and not self._timer.cancelled()):
            return
        self._timer = loop.call_later(FOLD_INTERVAL, self._fold_now)

    def _fold_now(self) -> None:
        self._timer = None
        self.fold()
        self._start_folding()

    async def stop(self) -> None:
        """Shutdown hook: no more timed folds; count what is left."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.fold()

    # Reading ------------------------------------------------------------------------------

    def in_flight(self) -> collections.Counter[RouteMetrics]:
        """Requests being served now on the app's loop, by their route's counters."""
        loop = self.app.engine.loop
        counts: collections.Counter[RouteMetrics] = collections.Counter()
        if loop is None or loop.is_closed():
            return counts
        for request in requests_in_flight(loop):
            metrics = getattr(request.route, "metrics", None)
            if isinstance(metrics, RouteMetrics):
                counts[metrics] += 1
        return counts

    def route_snapshots(self) -> dict[str, dict[str, Any]]:
        """Every route's figures by label, the latencies appended so far counted."""
        in_flight = self.in_flight()
        with self.lock:
            self.fold()
            return {label: m.snapshot(in_flight[m]) for label, m in list(self.routes.items())}

    def snapshot(self) -> dict[str, Any]:
        engine = self.app.engine
        routes = []
        for label, route in self.route_snapshots().items():
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
