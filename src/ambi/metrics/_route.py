"""Per-route request metrics.

`app.enable_metrics()` makes one `RouteMetrics` per route and has the app's dispatch
(`App._route_measured`, chosen once at startup) fill them around the route's whole
pipeline, outermost; with metrics off, dispatch is `App._route` and routes pay nothing.
"""

from __future__ import annotations

from typing import Any

from ._histogram import new_counts, percentile

#: Status codes looked up directly (`RouteMetrics.by_code`); others by `code // 100 % 6`.
_CODES = 1000


class RouteMetrics:
    """The counters of one route: exact, only touched on the event loop (no locks).

    Filled by the app's dispatch (`App._route_measured`), which writes little per request
    (PERF, bench_instructions "GET /json, metrics on"): one latency histogram per status
    class (`rows`, found from the status code in one lookup, `by_code`), the requests
    started, the clients gone and the latency sum.
    The status counts, the overall histogram and the requests in flight are derived from
    them when read.
    """

    __slots__ = ("by_code", "disconnected", "latency_sum", "method", "path", "rows", "started")

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path  # the template, never the raw path
        self.started = 0
        self.disconnected = 0  # the client left before the response was ready
        #: Latency buckets (`_histogram.bucket` of ns) by status class: 1 is 1xx ... 5 is 5xx.
        self.rows = [new_counts() for _ in range(6)]
        #: status code -> its class's row
        self.by_code = [self.rows[code // 100 % 6] for code in range(_CODES)]
        self.latency_sum = 0  # ns

    def row_of(self, status_code: int) -> list[int]:
        """The latency row of `status_code`'s class."""
        if 0 <= status_code < _CODES:
            return self.by_code[status_code]
        return self.rows[status_code // 100 % 6]

    @property
    def status(self) -> list[int]:
        """Responses by status class: index 1 is 1xx ... index 5 is 5xx."""
        return [sum(row) for row in self.rows]

    @property
    def latency(self) -> list[int]:
        """The latency buckets of every response."""
        return [sum(counts) for counts in zip(*self.rows, strict=True)]

    @property
    def in_flight(self) -> int:
        answered = sum(self.status) + self.disconnected  # read before `started`: never < 0
        return max(0, self.started - answered)

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
