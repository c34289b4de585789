"""`run="process"` against the thread pool for CPU-bound work: the seed's `compute_prime`
(n=10,000) under 2 concurrent clients, on this 2-core machine.

The app (`benchmarks/apps/ambi_cpu.py`, served by `app.listen()`, Granian RSGI, one
worker) is not pinned: the process pool's two children need both cores. wrk (1 thread, 2
connections) is light beside them. Endpoints are measured in interleaved rounds, each on
a fresh server. Run:

    .venv/bin/python -m benchmarks.bench_process [--rounds 3] [--duration 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from benchmarks.endpoints import Endpoint
from benchmarks.servers import free_port, running
from benchmarks.wrk import run_wrk

REPO = Path(__file__).resolve().parent.parent
N = 10_000
EXPECTED = {"count": 1229, "largest": 9973}
ENDPOINTS = {
    kind: Endpoint(kind, f"GET /prime/{kind}", "GET", f"/prime/{kind}?n={N}", EXPECTED)
    for kind in ("thread", "process")
}


def measure(kind: str, duration: int, log: Path) -> tuple[float, float, float]:
    """(req/s, p50 ms, p99 ms) of one endpoint on a fresh server."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.apps.ambi_cpu", str(port)]
    with running(argv, port=port, cpu=None, env=os.environ, log=log, ready_timeout=60):
        url = f"http://127.0.0.1:{port}"
        run_wrk(url, ENDPOINTS[kind], duration_s=2, connections=2, cpu=None)  # warm-up
        result = run_wrk(url, ENDPOINTS[kind], duration_s=duration, connections=2, cpu=None)
    if result.non_2xx or result.socket_errors:
        raise SystemExit(f"{kind}: {result.non_2xx} non-2xx, {result.socket_errors} errors")
    return result.requests_per_s, result.p50_ms, result.p99_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    log = REPO / "benchmarks" / "out" / "logs" / "bench_process.log"
    rows: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in ENDPOINTS}
    for round_ in range(args.rounds):
        order = list(ENDPOINTS) if round_ % 2 == 0 else list(reversed(ENDPOINTS))
        for kind in order:
            rows[kind].append(measure(kind, args.duration, log))
    print(
        f"| compute_prime n={N:,}, 2 connections | req/s per round | median req/s | "
        "median p50 ms | median p99 ms |"
    )
    print("|---|---|--:|--:|--:|")
    for kind, results in rows.items():
        per_round = ", ".join(f"{r:.1f}" for r, _, _ in results)
        rps, p50, p99 = (statistics.median(column) for column in zip(*results, strict=True))
        print(f"| run={kind!r} | {per_round} | {rps:.1f} | {p50:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
