"""Per-route request metrics.

`app.enable_metrics()` makes one `RouteMetrics` per route and has the app's dispatch
(`App._route_measured`, chosen once at startup) fill them around the route's whole
pipeline, outermost; with metrics off, dispatch is `App._route` and routes pay nothing.

What a request writes is one float: its latency in seconds, appended to the list of its
status class, found by the status code in one lookup (`by_code[status_code]`, which the
route keeps as `CompiledRoute.latencies`). Everything else is worked out later:

- `fold()` counts the appended latencies into the class's histogram and adds them to the
  latency sum; it runs when the metrics are read and once a second (`Metrics`), so the
  lists stay short. Counts are exact: every appended latency is counted once.
- The requests in flight are not counted at all: they are the requests whose adapter
  coroutine runs now on the app's loop (`ambi.servers._shutdown.requests_in_flight`), by
  their `request.route`, so a request that raises or is cancelled cannot be left counted.
- A request that ends without a response (the client left, or its task was cancelled)
  counts in `disconnected` or `cancelled`, on the exception's path only.
"""

from __future__ import annotations

from typing import Any

from ._histogram import count_samples, new_counts, percentile

#: Status codes found by `by_code[code]`; a code outside (over 999) takes `record_status`.
CODES = 1000
#: The status classes: index 1 is 1xx ... 5 is 5xx; 0 holds the codes outside 100-599.
CLASSES = 6


def status_class(code: int) -> int:
    cls = code // 100
    return cls if 1 <= cls < CLASSES else 0


class RouteMetrics:
    """The counters of one route. Requests append on the event loop; `fold` may run on
    any thread, under the app's metrics lock (`Metrics.lock`)."""

    __slots__ = (
        "by_code",
        "cancelled",
        "disconnected",
        "latency_sum",
        "method",
        "path",
        "pending",
        "rows",
    )

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path  # the template, never the raw path
        #: latencies (s) appended by requests and not yet counted, by status class
        self.pending: list[list[float]] = [[] for _ in range(CLASSES)]
        #: status code -> its class's pending list (what a request appends to). PERF: the
        #: list itself, not its bound `append`: `by_code[code].append(seconds)` is the call
        #: the interpreter inlines (3.11's PRECALL_NO_KW_LIST_APPEND), no builtin call
        #: (bench_instructions "GET /json, metrics on"; RESULTS.md, session 9)
        self.by_code: list[list[float]] = [
            self.pending[status_class(code)] for code in range(CODES)
        ]
        #: latency buckets (`_histogram.bucket` of ns) by status class
        self.rows = [new_counts() for _ in range(CLASSES)]
        self.latency_sum = 0.0  # seconds, of the counted latencies
        self.disconnected = 0  # the client left before the response was ready
        self.cancelled = 0  # the request's task was cancelled (e.g. cut at shutdown)

    def record_status(self, status_code: int, seconds: float) -> None:
        """`by_code[status_code].append(seconds)` for a code `by_code` does not hold."""
        self.pending[status_class(status_code)].append(seconds)

    def fold(self) -> None:
        """Count the pending latencies into the histograms (under `Metrics.lock`)."""
        for cls, pending in enumerate(self.pending):
            taken = len(pending)
            if taken:
                # requests append while this runs (from the loop's thread): take the first
                # `taken` and leave what came after them
                batch = pending[:taken]
                del pending[:taken]
                count_samples(self.rows[cls], batch)
                self.latency_sum += sum(batch)

    @property
    def status(self) -> list[int]:
        """Responses counted by status class: index 1 is 1xx ... index 5 is 5xx."""
        return [sum(row) for row in self.rows]

    @property
    def latency(self) -> list[int]:
        """The latency buckets of every response counted."""
        return [sum(counts) for counts in zip(*self.rows, strict=True)]

    def snapshot(self, in_flight: int) -> dict[str, Any]:
        """The route's figures (folded first by the caller)."""
        counts = self.latency
        status = self.status
        answered = sum(status)
        return {
            "method": self.method,
            "route": self.path,
            "requests": answered + self.disconnected + self.cancelled,
            "in_flight": in_flight,
            "responses": {f"{i}xx": status[i] for i in range(1, 6)},
            "errors": {"4xx": status[4], "5xx": status[5]},
            "disconnected": self.disconnected,
            "cancelled": self.cancelled,
            "latency_seconds": {
                "p50": percentile(counts, 0.50),
                "p95": percentile(counts, 0.95),
                "p99": percentile(counts, 0.99),
                "mean": self.latency_sum / answered if answered else None,
            },
        }
