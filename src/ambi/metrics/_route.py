"""Per-route request metrics and the route stage that records them.

The stage is the outermost of a route's pipeline (`StageOrder.METRICS`) and is installed
only by `app.enable_metrics()`: with metrics off, routes carry no stage and pay nothing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..http import Request, Response
from ..servers._types import ClientDisconnected
from ._histogram import new_counts, percentile

if TYPE_CHECKING:
    from .._pipeline import Next, Stage
    from ..app import App


class RouteMetrics:
    """The counters of one route: exact, only touched on the event loop (no locks)."""

    __slots__ = ("disconnected", "in_flight", "latency", "latency_sum", "method", "path", "status")

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path  # the template, never the raw path
        self.in_flight = 0
        self.disconnected = 0  # the client left before the response was ready
        #: Responses by status class: index 1 is 1xx ... index 5 is 5xx.
        self.status = [0] * 6
        self.latency = new_counts()  # buckets of ns (`_histogram.bucket`)
        self.latency_sum = 0  # ns

    @property
    def requests(self) -> int:
        return sum(self.status) + self.disconnected

    def snapshot(self) -> dict[str, Any]:
        counts = self.latency
        return {
            "method": self.method,
            "route": self.path,
            "requests": self.requests,
            "in_flight": self.in_flight,
            "responses": {f"{i}xx": self.status[i] for i in range(1, 6)},
            "errors": {"4xx": self.status[4], "5xx": self.status[5]},
            "disconnected": self.disconnected,
            "latency_seconds": {
                "p50": percentile(counts, 0.50),
                "p95": percentile(counts, 0.95),
                "p99": percentile(counts, 0.99),
                "mean": self.latency_sum / 1e9 / sum(counts) if sum(counts) else None,
            },
        }


def metrics_stage(metrics: RouteMetrics, app: App) -> Stage:
    """The stage that counts `metrics`' requests, their status class and latency."""
    status = metrics.status
    latency = metrics.latency
    clock = time.perf_counter_ns
    error_response = app._error_response  # the app's one place errors become responses

    async def record(request: Request, call_next: Next) -> Response:
        metrics.in_flight += 1
        start = clock()
        try:
            response = await call_next(request)
        except ClientDisconnected:
            metrics.in_flight -= 1
            metrics.disconnected += 1
            raise
        except Exception as exc:
            # What dispatch would do with it, done here so the status is counted.
            response = await error_response(request, exc)
        ns = clock() - start
        metrics.in_flight -= 1
        status[response.status_code // 100 % 6] += 1
        # PERF: `_histogram.bucket(ns)` inlined (one call less per request)
        bits = ns.bit_length()
        latency[(bits << 3) | ((ns >> (bits - 4)) & 7) if bits > 4 else ns] += 1
        metrics.latency_sum += ns
        return response

    return record
