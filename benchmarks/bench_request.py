"""In-process cost of one request through ambi's RSGI adapter, without a server.

Drives `app.__rsgi__` with the test client's in-memory protocol object, so the figure is
ambi's own work per request (routing, body read, validation, handler call, JSON), free of
network and server noise. Run:

    .venv/bin/python -m benchmarks.bench_request [--quick] [--concurrency 64] [--uvloop]
        [--cpu] [CASE ...]

`--uvloop` runs on the loop Granian serves ambi on; `--cpu` gives the process's CPU time
(all threads) per request instead of wall time, steadier on a busy machine; the `GET
/bridge-*` cases are the service's `/stats` pair without a database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from ambi import App
from ambi._testing_wire import _RSGIHeaders, _RSGIProto

from .apps import ambi_bridge, ambi_mw_app, ambi_variants
from .apps.ambi_app import app

ORDER = (
    b'{"customer_id":1,"email":"a@example.com","items":[{"sku":"a","qty":1,"price":2.5},'
    b'{"sku":"b","qty":2,"price":1.0}],"note":"x","priority":2,"express":true}'
)


class _Scope:
    proto = "http"
    http_version = "1.1"
    client = "127.0.0.1:50000"
    server = "127.0.0.1:8000"
    scheme = "http"

    def __init__(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query
        headers = [("host", "127.0.0.1:8000"), ("user-agent", "bench"), *extra]
        if body:
            headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
        self.headers = _RSGIHeaders(headers)
        self.body = body


BROWSER = (("origin", ambi_mw_app.ORIGIN), ("accept", "*/*"), ("accept-language", "en"))
CASES: dict[str, tuple[App, _Scope]] = {
    "GET /json": (app, _Scope("GET", "/json")),
    # the same request as a browser sends it, to the same app, then with middleware on
    "GET /json (browser headers)": (app, _Scope("GET", "/json", extra=BROWSER)),
    "GET /json, CORS + request id + security headers": (
        ambi_mw_app.app,
        _Scope("GET", "/json", extra=BROWSER),
    ),
    "GET /json, one async function middleware": (
        ambi_mw_app.app_function,
        _Scope("GET", "/json"),
    ),
    "GET /json, one sync function middleware": (
        ambi_mw_app.app_sync_function,
        _Scope("GET", "/json"),
    ),
    "GET /json, one async route middleware": (
        ambi_mw_app.app_route_function,
        _Scope("GET", "/json"),
    ),
    "GET /json, metrics on": (ambi_variants.metrics_app, _Scope("GET", "/json")),
    "GET /sync-json": (app, _Scope("GET", "/sync-json")),
    "GET /deps": (app, _Scope("GET", "/deps")),
    "GET /deps-sync": (app, _Scope("GET", "/deps-sync")),
    "GET /items/{item_id}": (app, _Scope("GET", "/items/42", "q=abc&limit=5")),
    "POST /orders": (app, _Scope("POST", "/orders", body=ORDER)),
    # the service's /stats pair without a database: def + smartasync vs async def
    "GET /bridge-sync": (ambi_bridge.app, _Scope("GET", "/bridge-sync")),
    "GET /bridge-async": (ambi_bridge.app, _Scope("GET", "/bridge-async")),
}


class _Proto(_RSGIProto):
    """The test client's stand-in without its imitation of Granian's Content-Length (which
    Granian does in Rust, not in Python): the measure stays ambi's own work."""

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self._start(status, headers)
        self.chunks.append(body)


async def _serve(app: App, scope: _Scope, n: int) -> None:
    for _ in range(n):
        proto = _Proto(scope.body)
        await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
        if proto.status != 200:
            raise SystemExit(f"{scope.method} {scope.path} answered {proto.status}")


async def _per_request(
    app: App,
    scope: _Scope,
    n: int,
    concurrency: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Microseconds per request, `n` requests, `concurrency` of them in flight at a time
    (1: one after the other, the latency of each; 64: as wrk -c64 loads a server, where
    hand-offs to the thread pool overlap)."""
    started = clock()
    await asyncio.gather(*(_serve(app, scope, n // concurrency) for _ in range(concurrency)))
    return (clock() - started) / (n // concurrency * concurrency) * 1e6


async def run(
    n: int,
    rounds: int,
    concurrency: int = 1,
    names: list[str] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    cases = {name: CASES[name] for name in names or CASES}
    apps = list(dict.fromkeys(app for app, _ in cases.values()))
    for each in apps:
        await each.startup()
    try:
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, (each, scope) in cases.items():
                samples[name].append(await _per_request(each, scope, n, concurrency, clock))
    finally:
        for each in apps:
            await each.shutdown()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight at a time (default 1)"
    )
    parser.add_argument(
        "--uvloop", action="store_true", help="on uvloop, the loop Granian serves ambi on"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="CPU time of the process (all its threads) per request instead of wall time",
    )
    parser.add_argument("cases", nargs="*", help=f"default: all of {', '.join(CASES)}")
    args = parser.parse_args()
    if unknown := [name for name in args.cases if name not in CASES]:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    n, rounds = (256, 1) if args.quick else (20_480, 5)
    what = "CPU µs" if args.cpu else "µs"
    print(f"| endpoint | {what} per request (in-process, RSGI, {args.concurrency} in flight) |")
    print("|---|---:|")
    runner: Any = asyncio.run
    if args.uvloop:
        import uvloop

        runner = uvloop.run
    clock = time.process_time if args.cpu else time.perf_counter
    for name, micros in runner(run(n, rounds, args.concurrency, args.cases, clock)).items():
        print(f"| {name} | {micros:.1f} |")


if __name__ == "__main__":
    main()
