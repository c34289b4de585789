"""Observability: handler statistics and request metrics, with Prometheus exposition.

- `app.handler_stats()` / `get_handler_stats()`: handlers by execution kind, each route's kind.
- `app.metrics()` / `get_performance_metrics()`: per route template, requests, responses
  by status class, latency p50/p95/p99 (fixed log buckets, exact counts), in flight; the
  thread pool (size, busy, queued) and the process pool. Request counts need
  `app.enable_metrics()`: then the app's dispatch times every route's requests around its
  whole pipeline (outermost, as a stage at `StageOrder.METRICS` would), chosen once at
  startup, so an app without metrics pays nothing; a request only appends its latency,
  the counting happens later (`_route.py`).
  The engine's counters (thread-pool 503s, loop lag and stalls by route with their
  stacks, route limits, the process pool) and those of the features that are on
  (background tasks, cache hits/misses, rate-limit refusals) are read at snapshot time
  (`_sources.py`): nothing per request.
- `app.enable_metrics(path="/metrics", guards=[...])`: the same in Prometheus text (the
  `metrics` extra), adding up worker processes under `PROMETHEUS_MULTIPROC_DIR`.
- `app.enable_dashboard("/_ambi")`: a live status page (`_dashboard.py`).
- `app.enable_tracing()`: OpenTelemetry spans (`_tracing.py`, `ambi._spans`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError
from ..http import Response
from ._current import current_app, register_app
from ._registry import Metrics, disabled_snapshot, thread_pool_stats
from ._stats import handler_stats

if TYPE_CHECKING:
    from ..app import App


def get_handler_stats() -> dict[str, Any]:
    """`app.handler_stats()` of the app serving the calling code (seed 001's function)."""
    return handler_stats(current_app())


def get_performance_metrics() -> dict[str, Any]:
    """`app.metrics()` of the app serving the calling code (seed 001's function)."""
    return app_metrics(current_app())


def app_metrics(app: App) -> dict[str, Any]:
    metrics: Metrics | None = getattr(app, "_metrics", None)
    return metrics.snapshot() if metrics is not None else disabled_snapshot(app)


def enable_metrics(
    app: App, path: str | None, flush_interval: float, guards: Sequence[Callable[..., Any]] = ()
) -> Metrics:
    """What `app.enable_metrics` does: the counters (the app's dispatch measures from
    startup on), and the endpoint when `path` is given. After `enable_dashboard` (which
    enables the metrics without an endpoint), it adds the endpoint."""
    if app._frozen:
        raise ConfigurationError(
            "features that change the request pipeline must be enabled before the app starts"
        )
    metrics: Metrics | None = getattr(app, "_metrics", None)
    if metrics is not None and not (metrics.implicit and path is not None):
        raise ConfigurationError("metrics are already enabled on this app")
    if metrics is None:
        metrics = Metrics(app)
        app.add_event_handler("shutdown", metrics.stop)
    metrics.implicit = False
    if path is not None:
        from ._prometheus import Exposition

        if not path.startswith("/"):
            raise ConfigurationError(f"the metrics path must start with '/', got {path!r}")
        exposition = Exposition(metrics, flush_interval)

        async def prometheus_metrics() -> Response:
            return Response(exposition.render(), media_type=exposition.content_type)

        app._add_internal_route(path, prometheus_metrics, guards)
        app.add_event_handler("startup", exposition.start)
        app.add_event_handler("shutdown", exposition.stop)
    elif guards:
        raise ConfigurationError("guards= apply to the metrics endpoint: give a path")
    return metrics


__all__ = [
    "Metrics",
    "app_metrics",
    "current_app",
    "enable_metrics",
    "get_handler_stats",
    "get_performance_metrics",
    "handler_stats",
    "register_app",
    "thread_pool_stats",
]
