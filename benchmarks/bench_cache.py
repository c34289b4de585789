"""A cache hit against running the handler: GET /json vs GET /cached-json (a hit on the
in-memory store), same app, same run. Issue #11 asks a hit for >= 0.9x /json's req/s.

In-process (default): `app.__rsgi__` driven with the test client's protocol object, µs
per request, rounds interleaved. With `--wrk`: the app served by Granian (RSGI, one worker,
core 0) and wrk on core 1, 64 connections, the two endpoints interleaved per round on the
same server. Run:

    taskset -c 0 .venv/bin/python -m benchmarks.bench_cache [--quick]
    .venv/bin/python -m benchmarks.bench_cache --wrk [--rounds 9] [--duration 4]

On a shared machine, read the per-round ratios of adjacent runs: the load of other
processes moves both endpoints of a round together more than it moves rounds apart.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from ambi._testing_wire import _RSGIHeaders, _RSGIProto

from .apps.ambi_cache import app
from .contenders import Contender, ServerOptions
from .endpoints import Endpoint
from .servers import free_port, running
from .wrk import run_wrk

REPO = Path(__file__).resolve().parent.parent
PATHS = ("/json", "/cached-json")


class _Scope:
    proto = "http"
    http_version = "1.1"
    client = "127.0.0.1:50000"
    server = "127.0.0.1:8000"
    scheme = "http"
    method = "GET"
    query_string = ""
    body = b""

    def __init__(self, path: str) -> None:
        self.path = path
        self.headers = _RSGIHeaders(
            [("host", "127.0.0.1:8000"), ("user-agent", "bench"), ("accept", "*/*")]
        )


async def _per_request(path: str, n: int) -> float:
    scope = _Scope(path)
    started = time.perf_counter()
    for _ in range(n):
        proto = _RSGIProto(b"")
        await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
        if proto.status != 200:
            raise SystemExit(f"GET {path} answered {proto.status}")
    return (time.perf_counter() - started) / n * 1e6


async def in_process(n: int, rounds: int) -> dict[str, float]:
    await app.startup()
    try:
        samples: dict[str, list[float]] = {path: [] for path in PATHS}
        for _ in range(rounds):
            for path in PATHS:
                samples[path].append(await _per_request(path, n))
    finally:
        await app.shutdown()
    return {path: statistics.median(values) for path, values in samples.items()}


def with_wrk(rounds: int, duration: int) -> dict[str, list[float]]:
    contender = Contender("ambi-cache", "benchmarks.apps.ambi_cache:app", "granian", "rsgi")
    port = free_port()
    argv = contender.argv(port, ServerOptions.detect())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = REPO / "benchmarks" / "out" / "logs" / "bench_cache.log"
    results: dict[str, list[float]] = {path: [] for path in PATHS}
    with running(argv, port=port, cpu=0, env=env, log=log, ready_timeout=30):
        url = f"http://127.0.0.1:{port}"
        for rnd in range(rounds):
            order = PATHS if rnd % 2 == 0 else PATHS[::-1]
            for path in order:
                endpoint = Endpoint(path, path, "GET", path, {"message": "hello"})
                run_wrk(url, endpoint, duration_s=1, connections=64, cpu=1)  # warm-up
                result = run_wrk(url, endpoint, duration_s=duration, connections=64, cpu=1)
                if result.non_2xx or result.socket_errors:
                    raise SystemExit(f"{path}: errors under load: {result}")
                results[path].append(result.requests_per_s)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--wrk", action="store_true", help="through Granian, measured by wrk")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--duration", type=int, default=4)
    args = parser.parse_args()
    if args.wrk:
        results = with_wrk(args.rounds, args.duration)
        json_rps = statistics.median(results["/json"])
        print("| endpoint | req/s per round | median | vs /json |")
        print("|---|---|---:|---:|")
        for path, values in results.items():
            median = statistics.median(values)
            rounds = ", ".join(f"{v:,.0f}" for v in values)
            print(f"| GET {path} | {rounds} | {median:,.0f} | {median / json_rps:.2f}x |")
        ratios = [c / j for c, j in zip(results["/cached-json"], results["/json"], strict=True)]
        print(
            f"\nhit / handler, per round (adjacent runs): "
            f"{', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}x"
        )
        return
    n, rounds = (200, 1) if args.quick else (20_000, 7)
    medians = asyncio.run(in_process(n, rounds))
    print("| endpoint | µs per request (in-process, RSGI) | vs /json |")
    print("|---|---:|---:|")
    for path, micros in medians.items():
        print(f"| GET {path} | {micros:.2f} | {medians['/json'] / micros:.2f}x |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
