"""The engine's and the features' numbers in Prometheus text: the loop's lag and stalls,
thread-pool rejections, route limits, the process pool, background tasks, the cache and
rate limits. Written to each worker's file and added up like the request counters
(`_prometheus.py`): counters of every worker, gauges of the live ones only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ._sources import process_pool_stats, sources_of

if TYPE_CHECKING:
    from ..app import App

#: EngineStats counters by route -> (metric name, help)
_ROUTE_COUNTERS = {
    "loop_blocks": ("ambi_event_loop_blocks", "Stalls of the event loop, by the route running"),
    "rejected": ("ambi_thread_pool_rejected", "Requests answered 503: thread pool queue full"),
    "over_limit": ("ambi_route_over_limit", "Requests answered 503: max_concurrency reached"),
    "timed_out": ("ambi_route_timeouts", "Requests answered 504: the route's timeout passed"),
}
_TASK_GAUGES = ("queued", "running")
_TASK_COUNTERS = ("sent", "done", "failed", "retried")


def runtime_state(app: App) -> dict[str, Any]:
    """This process's numbers, JSON-able (for the multi-process files)."""
    engine = app.engine
    watchdog = engine.watchdog
    on = watchdog is not None and watchdog.running
    sources = sources_of(app)
    features = {name: sources[name]() for name in ("background_tasks", "cache", "rate_limit")
                if name in sources}  # fmt: skip
    pool = process_pool_stats(engine)
    return {
        "routes": {key: dict(getattr(engine.stats, key)) for key in _ROUTE_COUNTERS},
        "lag": watchdog.lag if on and watchdog is not None else None,
        "max_lag": watchdog.max_lag() if on and watchdog is not None else None,
        "process_pool": {"submitted": pool["submitted"], "active": pool["active"]},
        "features": features,
    }


def _add(into: Counter[str], values: dict[str, Any] | None) -> None:
    for key, value in (values or {}).items():
        into[key] += value


def merge_runtime(states: list[tuple[dict[str, Any], bool]]) -> dict[str, Any]:
    """Every worker's runtime state added up; `(state, live)` pairs."""
    routes: dict[str, Counter[str]] = {key: Counter() for key in _ROUTE_COUNTERS}
    lags = [s["lag"] for s, live in states if live and s.get("lag") is not None]
    max_lags = [s["max_lag"] for s, live in states if live and s.get("max_lag") is not None]
    tasks: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    limited: Counter[str] = Counter()
    submitted = active = 0
    for state, live in states:
        for key in _ROUTE_COUNTERS:
            _add(routes[key], state["routes"].get(key))
        submitted += state["process_pool"]["submitted"]
        active += state["process_pool"]["active"] if live else 0
        features = state["features"]
        background = features.get("background_tasks")
        if background is not None:
            for key in _TASK_COUNTERS if not live else (*_TASK_COUNTERS, *_TASK_GAUGES):
                tasks[key] += background.get(key, 0)
            tasks["_on"] = 1
        for label, counts in (features.get("cache") or {}).get("by_route", {}).items():
            hits[label] += counts["hits"]
            misses[label] += counts["misses"]
        _add(limited, (features.get("rate_limit") or {}).get("by_route"))
    return {
        "routes": routes,
        "lag": max(lags) if lags else None,
        "max_lag": max(max_lags) if max_lags else None,
        "process_pool": {"submitted": submitted, "active": active},
        "tasks": tasks,
        "cache": (hits, misses),
        "rate_limit": limited,
        "has_cache": any("cache" in s["features"] for s, _ in states),
        "has_limits": any("rate_limit" in s["features"] for s, _ in states),
    }


def runtime_families(data: dict[str, Any]) -> Iterator[Metric]:
    for key, (name, text) in _ROUTE_COUNTERS.items():
        family = CounterMetricFamily(name, text, labels=["route"])
        for label, count in sorted(data["routes"][key].items()):
            family.add_metric([label], count)
        yield family
    if data["lag"] is not None:
        yield GaugeMetricFamily(
            "ambi_event_loop_lag_seconds", "How late the loop answered its latest heartbeat",
            value=data["lag"],
        )  # fmt: skip
        yield GaugeMetricFamily(
            "ambi_event_loop_max_lag_seconds", "The largest loop lag of the last minute",
            value=data["max_lag"],
        )  # fmt: skip
    pool = data["process_pool"]
    yield CounterMetricFamily(
        "ambi_process_pool_jobs", "Jobs sent to the process pool", value=pool["submitted"]
    )
    yield GaugeMetricFamily(
        "ambi_process_pool_active", "Process pool jobs not finished", value=pool["active"]
    )
    tasks = data["tasks"]
    if tasks.get("_on"):
        gauge = GaugeMetricFamily(
            "ambi_background_tasks", "App task queue: tasks waiting and running", labels=["state"]
        )
        for key in _TASK_GAUGES:
            gauge.add_metric([key], tasks[key])
        yield gauge
        counter = CounterMetricFamily(
            "ambi_background_tasks_ended",
            "App task queue: tasks sent to the broker, done, failed, attempts retried",
            labels=["outcome"],
        )
        for key in _TASK_COUNTERS:
            counter.add_metric([key], tasks[key])
        yield counter
    if data["has_cache"]:
        hits, misses = data["cache"]
        for name, counts, text in (
            ("ambi_cache_hits", hits, "Requests answered from the cache"),
            ("ambi_cache_misses", misses, "Cache lookups that found nothing (the handler ran)"),
        ):
            family = CounterMetricFamily(name, text, labels=["route"])
            for label in sorted(hits.keys() | misses.keys()):
                family.add_metric([label], counts[label])
            yield family
    if data["has_limits"]:
        family = CounterMetricFamily(
            "ambi_rate_limit_rejected", "Requests refused with 429", labels=["route"]
        )
        for label, count in sorted(data["rate_limit"].items()):
            family.add_metric([label], count)
        yield family
