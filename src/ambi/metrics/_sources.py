"""What `app.metrics()` gathers besides the request counters: the engine's and the features'.

Gauges and counters that other parts keep anyway (the engine's `EngineStats`, the
watchdog's loop lag, a task queue's counts, a cache's hits) are read here when a snapshot
is taken: nothing runs per request for them. A feature that is on registers its numbers
with `add_metric_source(app, name, fn)` (the background task queue, the cache, rate
limits); `Metrics.add_source` is the same for user code. Sources are kept per app, so they
show in `app.metrics()` whether `enable_metrics()` was called before or after the feature.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from ..app import App
    from ..execution import Engine, LoopBlock

Source = Callable[[], Any]

#: names of the snapshot that are not sources
RESERVED = frozenset(
    {"enabled", "pid", "total_requests", "in_flight", "routes", "handlers", "thread_pool",
     "process_pool", "event_loop"}
)  # fmt: skip


def add_metric_source(app: App, name: str, fn: Source, *, replace: bool = False) -> None:
    """Put `fn()` (a JSON-able value) in every snapshot of `app.metrics()` under `name`.

    A second source of the same name is a `ConfigurationError` unless `replace` (a
    feature enabled again on an app started twice)."""
    if name in RESERVED:
        raise ConfigurationError(f"{name!r} is a name of the metrics snapshot itself")
    sources: dict[str, Source] | None = getattr(app, "_metric_sources", None)
    if sources is None:
        sources = {}
        app._metric_sources = sources  # type: ignore[attr-defined]  # kept on the app
    if name in sources and not replace:
        raise ConfigurationError(f"a metrics source named {name!r} exists already")
    sources[name] = fn


def sources_of(app: App) -> dict[str, Source]:
    return getattr(app, "_metric_sources", None) or {}


def source_values(app: App) -> dict[str, Any]:
    return {name: fn() for name, fn in sources_of(app).items()}


def _block(block: LoopBlock) -> dict[str, Any]:
    running = block.running
    return {
        "at": block.at,
        "seconds": block.seconds,
        "route": block.route,
        "method": running.method if running is not None else None,
        "path": running.path if running is not None else None,
        "stack": block.stack,
    }


def event_loop_stats(engine: Engine) -> dict[str, Any]:
    """The loop's lag (measured by the blocking watchdog) and its stalls, by route."""
    watchdog = engine.watchdog
    blocks = engine.stats.loop_blocks
    on = watchdog is not None and watchdog.running
    return {
        "watchdog": on,
        "block_threshold": engine.block_threshold,
        # None when no watchdog runs (App(loop_block_threshold=None)): nothing measures it
        "lag_seconds": watchdog.lag if on and watchdog is not None else None,
        "max_lag_seconds": watchdog.max_lag() if on and watchdog is not None else None,
        "blocks": sum(blocks.values()),
        "blocks_by_route": dict(blocks),
        "recent_blocks": [_block(b) for b in engine.stats.recent_blocks],
    }


def process_pool_stats(engine: Engine) -> dict[str, Any]:
    pool = engine.processes
    return {
        "max_workers": pool.max_workers if pool is not None else (
            engine.process_workers or os.cpu_count() or 1
        ),
        "started": pool is not None,
        "children": len(pool.pids) if pool is not None else 0,
        "submitted": pool.submitted if pool is not None else 0,
        "active": pool.active if pool is not None else 0,
    }  # fmt: skip


def route_engine_counts(engine: Engine, label: str) -> dict[str, int]:
    """The engine's counters of one route ("GET /items/{item_id}")."""
    stats = engine.stats
    return {
        "loop_blocks": stats.loop_blocks.get(label, 0),
        "rejected": stats.rejected.get(label, 0),  # 503: the thread pool's queue was full
        "over_limit": stats.over_limit.get(label, 0),  # 503: max_concurrency reached
        "timed_out": stats.timed_out.get(label, 0),  # 504: the route's timeout passed
    }
