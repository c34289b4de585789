"""What adaptive inline and the loop-blocking detector cost and gain, in process.

Drives `app.__rsgi__` of the benchmark app (as `bench_request` does) for three variants,
interleaved round by round:

- `ambi`: the defaults (adaptive inline on: `/sync-json` runs inline once it has proven
  fast; the loop-blocking detector on);
- `ambi-pool`: adaptive inline off (`/sync-json` always hops to the thread pool);
- `ambi-nowatch`: the loop-blocking detector off.

It also times the `/sync-json` handler itself, as the adaptive invoker does, in a worker
thread and inline, under load: how often noise (the OS, the GIL, a collection) pushes a
2 µs handler over the inline threshold and the stall limit. Run:

    taskset -c 0 .venv/bin/python -m benchmarks.bench_inline [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from ambi import App
from ambi._testing_wire import _RSGIProto
from ambi.execution import Engine

from .apps.ambi_app import app as default_app
from .apps.ambi_app import json_sync
from .apps.ambi_variants import nowatch_app, pool_app
from .bench_request import CASES as _REQUEST_CASES
from .bench_request import _Scope

#: the request of each endpoint (bench_request's cases name their app too: not needed here)
CASES = {name: scope for name, (_, scope) in _REQUEST_CASES.items()}

VARIANTS: dict[str, App] = {"ambi": default_app, "ambi-pool": pool_app, "ambi-nowatch": nowatch_app}
ENDPOINTS = ("GET /json", "GET /sync-json")


async def _serve(app: App, scope: _Scope, n: int) -> None:
    for _ in range(n):
        proto = _RSGIProto(scope.body)
        await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
        if proto.status != 200:
            raise SystemExit(f"{scope.method} {scope.path} answered {proto.status}")


#: what a request's cost is read with: wall time, or (`--cpu`) the process's CPU time, all
#: threads included (the watchdog's, the pool's), which other processes on a busy machine
#: do not inflate
clock = time.perf_counter


async def _per_request(app: App, scope: _Scope, n: int, concurrency: int) -> float:
    started = clock()
    await asyncio.gather(*(_serve(app, scope, n // concurrency) for _ in range(concurrency)))
    return (clock() - started) / (n // concurrency * concurrency) * 1e6


async def compare(
    n: int, rounds: int, concurrency: int
) -> tuple[dict[tuple[str, str], float], dict[str, Any]]:
    """Median µs per request of each (variant, endpoint), and the adaptive state of each
    variant's `/sync-json` at the end (a stall on a busy machine may have demoted it)."""
    for app in VARIANTS.values():
        await app.startup()
    try:
        for app in VARIANTS.values():  # warm up: past adaptive inline's proving calls
            await _serve(app, CASES["GET /sync-json"], 2 * app.engine.inline_after)
        samples: dict[tuple[str, str], list[float]] = {}
        for round_ in range(rounds):
            names = list(VARIANTS)
            names = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in names:
                for endpoint in ENDPOINTS:
                    micros = await _per_request(VARIANTS[name], CASES[endpoint], n, concurrency)
                    samples.setdefault((name, endpoint), []).append(micros)
        states = {name: _inline_state(app) for name, app in VARIANTS.items()}
    finally:
        for app in VARIANTS.values():
            await app.shutdown()
    return {key: statistics.median(values) for key, values in samples.items()}, states


def _inline_state(app: App) -> Any:
    route = next(r for r in app.compiled if r.definition.path == "/sync-json")
    return route.invoker.inline_state


async def handler_durations(n: int, concurrency: int, run: str) -> list[float]:
    """How long the trivial `/sync-json` handler takes when timed as the adaptive invoker
    times it (`run="thread"`: in a worker; `run="inline"`: on the loop), while
    `concurrency` requests keep the loop busy."""
    durations: list[float] = []

    def timed() -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return json_sync()
        finally:
            durations.append(time.perf_counter() - started)

    app = App(inline_threshold=None, loop_block_threshold=None)
    app.add_route("/sync-json", timed, run=run)  # type: ignore[arg-type]
    await app.startup()
    try:
        await _serve(app, CASES["GET /sync-json"], 500)
        durations.clear()
        await asyncio.gather(
            *(_serve(app, CASES["GET /sync-json"], n // concurrency) for _ in range(concurrency))
        )
    finally:
        await app.shutdown()
    return durations


async def idle_cpu(seconds: float, block_threshold: float | None) -> float:
    """The share of a core an engine with nothing to do uses (its detector's cost)."""
    engine = Engine(block_threshold=block_threshold)
    engine.start()
    try:
        await asyncio.sleep(0.2)
        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        return (time.process_time() - cpu) / (time.monotonic() - wall)
    finally:
        engine.stop()


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--cpu", action="store_true", help="process CPU time, not wall time")
    args = parser.parse_args()
    global clock  # noqa: PLW0603 - one switch for the whole run
    clock = time.process_time if args.cpu else time.perf_counter
    unit = "CPU µs" if args.cpu else "µs"
    n, rounds = (512, 1) if args.quick else (20_480, 7)
    for concurrency in (1, 64):
        medians, states = asyncio.run(compare(n, rounds, concurrency))
        print(
            f"\n| variant ({concurrency} in flight) | /json {unit} | /sync-json {unit} | "
            "speed ratio |"
        )
        print("|---|---:|---:|---:|")
        for name in VARIANTS:
            json_us, sync_us = (medians[(name, endpoint)] for endpoint in ENDPOINTS)
            print(f"| {name} | {json_us:.1f} | {sync_us:.1f} | {json_us / sync_us:.2f}x |")
        print(f"\n/sync-json at the end: {states}")
    bars = default_app.engine.inline_threshold or 0.0, default_app.engine.inline_stall_limit
    print(
        f"\n| the /sync-json handler timed, 64 in flight, {n * 5} calls | µs: p50 | p99 | "
        f"p99.9 | max | calls over {bars[0] * 1e3:g} ms | over {bars[1] * 1e3:g} ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run in ("thread", "inline"):
        durations = asyncio.run(handler_durations(n * 5, 64, run))
        cells = [f"{_quantile(durations, q) * 1e6:.1f}" for q in (0.5, 0.99, 0.999)]
        over = [sum(d > bar for d in durations) for bar in bars]
        print(
            f"| {run} | {' | '.join(cells)} | {max(durations) * 1e6:.0f} | {over[0]} | {over[1]} |"
        )

    print("\n| engine with nothing to do, 5 s | share of a core |")
    print("|---|---:|")
    for threshold in (None, 0.1):
        share = asyncio.run(idle_cpu(1.0 if args.quick else 5.0, threshold))
        print(f"| loop_block_threshold={threshold} | {share:.2%} |")


if __name__ == "__main__":
    main()
