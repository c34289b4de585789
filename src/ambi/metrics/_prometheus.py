"""Prometheus exposition of `app.enable_metrics(path=...)` (needs the `metrics` extra).

Single process: the app's live counters plus prometheus-client's default registry (the
user's own metrics, process metrics). Several worker processes (`PROMETHEUS_MULTIPROC_DIR`
set, as prometheus-client's multi-process mode wants): each worker writes its counters to
`ambi_<pid>.json` in that directory every `flush_interval` seconds and when it stops; the
worker that answers a scrape adds up every file (its own counters live) and the user's
metrics through prometheus-client's `MultiProcessCollector`. Counters and histograms of
workers that ended still count; gauges (in flight, pool) count only live workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..exceptions import ConfigurationError
from ._histogram import cumulative_buckets, new_counts
from ._registry import thread_pool_stats
from ._stats import handler_stats

if TYPE_CHECKING:
    from ._registry import Metrics

try:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import REGISTRY, Collector

    from ._runtime_prom import merge_runtime, runtime_families, runtime_state
except ImportError:  # pragma: no cover - the extra is installed for the tests
    prometheus_available = False
else:
    prometheus_available = True

logger = logging.getLogger("ambi.metrics")

_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def _state(metrics: Metrics) -> dict[str, Any]:
    """This process's raw counters, in the shape written to (and read from) files."""
    in_flight = metrics.in_flight()
    with metrics.lock:
        metrics.fold()
        routes = {
            label: {
                "method": m.method,
                "route": m.path,
                "status": m.status,
                "disconnected": m.disconnected,
                "cancelled": m.cancelled,
                "in_flight": in_flight[m],
                "latency": m.latency,
                "latency_sum": m.latency_sum,  # seconds
            }
            for label, m in list(metrics.routes.items())
        }
    return {
        "pid": metrics.pid,
        "routes": routes,
        "thread_pool": thread_pool_stats(metrics.app.engine),
        "runtime": runtime_state(metrics.app),
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process: alive
        return True
    return True


def _merge(states: list[dict[str, Any]]) -> dict[str, Any]:
    routes: dict[str, dict[str, Any]] = {}
    pool = {"max_workers": 0, "threads": 0, "busy": 0, "queued": 0}
    runtime = []
    for index, state in enumerate(states):
        live = index == 0 or _alive(state["pid"])  # states[0] is this process
        runtime.append((state["runtime"], live))
        for label, r in state["routes"].items():
            into = routes.setdefault(
                label,
                {"method": r["method"], "route": r["route"], "status": [0] * 6,
                 "disconnected": 0, "cancelled": 0, "in_flight": 0, "latency": new_counts(),
                 "latency_sum": 0.0},
            )  # fmt: skip
            into["status"] = [a + b for a, b in zip(into["status"], r["status"], strict=True)]
            into["latency"] = [a + b for a, b in zip(into["latency"], r["latency"], strict=True)]
            into["disconnected"] += r["disconnected"]
            into["cancelled"] += r["cancelled"]
            into["latency_sum"] += r["latency_sum"]
            if live:
                into["in_flight"] += r["in_flight"]
        if live:
            for key in pool:
                pool[key] += state["thread_pool"].get(key, 0)
    return {"routes": routes, "thread_pool": pool, "runtime": merge_runtime(runtime)}


class Exposition:
    """The `/metrics` endpoint of one app, and the worker's file writer in multi-process
    mode."""

    def __init__(self, metrics: Metrics, flush_interval: float) -> None:
        if not prometheus_available:
            raise ConfigurationError(
                "app.enable_metrics(path=...) serves Prometheus text through "
                "prometheus-client: pip install 'ambi[metrics]' (or path=None)"
            )
        if flush_interval <= 0:
            raise ConfigurationError(f"flush_interval must be > 0, got {flush_interval}")
        self.metrics = metrics
        self.flush_interval = flush_interval
        self.directory: Path | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(_AmbiCollector(self))

    # multi-process mode -------------------------------------------------------------------

    async def start(self) -> None:
        """Startup hook: in multi-process mode, write this worker's file periodically."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.directory = Path(directory) if directory else None
        self.metrics.pid = os.getpid()  # a forked worker is not its parent
        if self.directory is not None and self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_forever())

    async def stop(self) -> None:
        """Shutdown hook: stop the writer and write the last counts."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self.directory is not None:
            self.flush()

    async def _flush_forever(self) -> None:
        engine = self.metrics.app.engine
        while True:
            await asyncio.sleep(self.flush_interval)
            # serialised here on the loop (consistent counts), written in the pool
            try:
                await engine.run_in_thread(self._write, orjson.dumps(_state(self.metrics)))
            except OSError:  # a full disk must not stop the next writes
                logger.exception("could not write the metrics of worker %s", self.metrics.pid)

    def flush(self) -> None:
        """Write this worker's counters to `ambi_<pid>.json` (atomically)."""
        self._write(orjson.dumps(_state(self.metrics)))

    def _write(self, data: bytes) -> None:
        if self.directory is None:  # pragma: no cover - only started in multi-process mode
            return
        path = self.directory / f"ambi_{self.metrics.pid}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def merged(self) -> dict[str, Any]:
        """Every worker's counters added up (just this one's outside multi-process mode)."""
        states = [_state(self.metrics)]
        if self.directory is not None:
            own = f"ambi_{self.metrics.pid}.json"
            for path in sorted(self.directory.glob("ambi_*.json")):
                if path.name != own:
                    with contextlib.suppress(OSError, orjson.JSONDecodeError):
                        states.append(orjson.loads(path.read_bytes()))
        return _merge(states)

    # serving ------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The exposition text: ambi's metrics, then the user's prometheus-client ones."""
        if self.directory is not None:
            users = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(users, str(self.directory))  # type: ignore[no-untyped-call]
        else:
            users = REGISTRY
        return generate_latest(self._registry) + generate_latest(users)

    content_type = CONTENT_TYPE_LATEST if prometheus_available else "text/plain"


class _AmbiCollector(Collector):
    def __init__(self, exposition: Exposition) -> None:
        self.exposition = exposition

    def collect(self) -> Iterator[Metric]:
        data = self.exposition.merged()
        labels = ["method", "route"]
        requests = CounterMetricFamily(
            "ambi_http_requests", "HTTP requests answered, by status class",
            labels=[*labels, "status_class"],
        )  # fmt: skip
        disconnected = CounterMetricFamily(
            "ambi_http_disconnected", "Requests whose client left before the response",
            labels=labels,
        )  # fmt: skip
        cancelled = CounterMetricFamily(
            "ambi_http_cancelled", "Requests cancelled before their response (e.g. cut at "
            "shutdown)", labels=labels,
        )  # fmt: skip
        latency = HistogramMetricFamily(
            "ambi_http_request_duration_seconds",
            "Time from routing to the response being ready", labels=labels,
        )  # fmt: skip
        in_flight = GaugeMetricFamily(
            "ambi_http_requests_in_flight", "Requests being handled now", labels=labels
        )
        for r in data["routes"].values():
            values = [r["method"], r["route"]]
            for index, name in enumerate(_CLASSES, start=1):
                requests.add_metric([*values, name], r["status"][index])
            disconnected.add_metric(values, r["disconnected"])
            cancelled.add_metric(values, r["cancelled"])
            latency.add_metric(values, cumulative_buckets(r["latency"]), r["latency_sum"])
            in_flight.add_metric(values, r["in_flight"])
        yield from (requests, disconnected, cancelled, latency, in_flight)
        handlers = GaugeMetricFamily(
            "ambi_handlers", "Route handlers by execution kind", labels=["kind"]
        )
        for kind, count in handler_stats(self.exposition.metrics.app)["by_kind"].items():
            handlers.add_metric([kind], count)
        yield handlers
        for key, text in (
            ("max_workers", "Threads the pool may start"),
            ("threads", "Threads started"),
            ("busy", "Threads running a job"),
            ("queued", "Jobs waiting for a thread"),
        ):
            yield GaugeMetricFamily(f"ambi_thread_pool_{key}", text, value=data["thread_pool"][key])
        yield from runtime_families(data["runtime"])
