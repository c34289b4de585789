"""How much a `smartasync` call costs, next to the other ways of doing the same thing.

    .venv/bin/python -m benchmarks.bench_bridge            # full run; paste into RESULTS.md
    .venv/bin/python -m benchmarks.bench_bridge --quick    # a few rounds, prints only

Three measurements, each on a trivial coroutine so that only the bridge is timed:

- sync call from a plain thread (case 2): ambi, a bare reused loop (the floor), asyncio.run,
  asgiref's async_to_sync, anyio's blocking portal, and SmartAsync 0.5 when it is installed;
- sync call from an ambi worker thread to the app's loop (case 1), against a bare
  `asyncio.run_coroutine_threadsafe(...).result()`;
- what `await f()` costs through smartasync, for a function and for a method.

Each figure is a per-call time over rounds of at least `--round-ms`; the table shows the
minimum (the least disturbed round) and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ambi.bridge import smartasync
from ambi.execution import Engine

COMMAND = ".venv/bin/python -m benchmarks.bench_bridge"


async def noop() -> int:
    return 1


smart_noop = smartasync(noop)


class Service:
    async def raw(self, x: int) -> int:
        return x

    @smartasync
    async def smart(self, x: int) -> int:
        return x


class Timing:
    def __init__(self, label: str, per_call: list[float]) -> None:
        self.label = label
        self.per_call = per_call

    @property
    def best(self) -> float:
        return min(self.per_call)

    @property
    def median(self) -> float:
        return statistics.median(self.per_call)


def _calibrate(run: Callable[[int], object], round_s: float) -> int:
    number = 1
    while True:
        start = time.perf_counter()
        run(number)
        if time.perf_counter() - start >= round_s or number >= 1 << 22:
            return number
        number *= 2


def _rounds(run: Callable[[int], object], number: int) -> float:
    start = time.perf_counter()
    run(number)
    return (time.perf_counter() - start) / number


def measure_interleaved(
    runs: dict[str, Callable[[int], object]], rounds: int, round_s: float
) -> list[Timing]:
    """Per-call times of each `run(n)`, the rounds interleaved so drift hits all alike."""
    numbers = {label: _calibrate(run, round_s) for label, run in runs.items()}
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for i in range(rounds):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        for label in order:
            samples[label].append(_rounds(runs[label], numbers[label]))
    return [Timing(label, samples[label]) for label in runs]


# -- case 2: a plain thread ------------------------------------------------------------


def _loop_runs(stack: contextlib.ExitStack) -> dict[str, Callable[[int], object]]:
    loop = asyncio.new_event_loop()
    stack.callback(loop.close)

    def ambi(n: int) -> None:
        for _ in range(n):
            smart_noop()

    def bare_loop(n: int) -> None:
        for _ in range(n):
            loop.run_until_complete(noop())

    def asyncio_run(n: int) -> None:
        for _ in range(n):
            asyncio.run(noop())

    return {
        "ambi `f()` (smartasync, case 2)": ambi,
        "bare reused loop `loop.run_until_complete(f())` (floor)": bare_loop,
        "`asyncio.run(f())`": asyncio_run,
    }


def _asgiref_run() -> Callable[[int], object] | None:
    try:
        from asgiref.sync import async_to_sync
    except ImportError:  # pragma: no cover - a dev dependency
        return None
    to_sync = async_to_sync(noop)

    def asgiref(n: int) -> None:
        for _ in range(n):
            to_sync()

    return asgiref


def _anyio_run(stack: contextlib.ExitStack) -> Callable[[int], object] | None:
    try:
        import anyio.from_thread
    except ImportError:  # pragma: no cover - a dev dependency
        return None
    portal = stack.enter_context(anyio.from_thread.start_blocking_portal())

    def anyio_portal(n: int) -> None:
        for _ in range(n):
            portal.call(noop)

    return anyio_portal


def _smartasync_pypi_run() -> Callable[[int], object] | None:
    try:  # not a dependency: `pip install smartasync` to get this row
        from smartasync import smartasync as smartasync_05  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    theirs = smartasync_05(noop)

    def smartasync_pypi(n: int) -> None:
        for _ in range(n):
            theirs()

    return smartasync_pypi


def _case2_runs(stack: contextlib.ExitStack) -> dict[str, Callable[[int], object]]:
    runs = _loop_runs(stack)
    optional = {
        "asgiref `async_to_sync(f)()`": _asgiref_run(),
        "anyio `from_thread` (blocking portal, started once)": _anyio_run(stack),
        "SmartAsync 0.5 (PyPI) `f()`": _smartasync_pypi_run(),
    }
    runs.update({label: run for label, run in optional.items() if run is not None})
    return runs


def bench_case2(rounds: int, round_s: float) -> list[Timing]:
    """Run in a fresh plain thread: no loop, not an ambi worker."""
    out: list[Timing] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            with contextlib.ExitStack() as stack:
                out.extend(measure_interleaved(_case2_runs(stack), rounds, round_s))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body, name="bench-plain-thread")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out


# -- case 1: an ambi worker thread -----------------------------------------------------


def _case1_worker(loop: asyncio.AbstractEventLoop, rounds: int, round_s: float) -> list[Timing]:
    def ambi(n: int) -> None:
        for _ in range(n):
            smart_noop()

    def bare(n: int) -> None:
        for _ in range(n):
            asyncio.run_coroutine_threadsafe(noop(), loop).result()

    return measure_interleaved(
        {
            "ambi `f()` from a worker (case 1)": ambi,
            "bare `run_coroutine_threadsafe(f(), loop).result()`": bare,
        },
        rounds,
        round_s,
    )


async def _case1(rounds: int, round_s: float) -> list[Timing]:
    engine = Engine(sync_workers=1)
    engine.start()
    try:
        loop = asyncio.get_running_loop()
        result: list[Timing] = await engine.run_in_thread(_case1_worker, loop, rounds, round_s)
        return result
    finally:
        engine.stop()


def bench_case1(rounds: int, round_s: float) -> list[Timing]:
    return asyncio.run(_case1(rounds, round_s))


# -- async callers ---------------------------------------------------------------------


def _awaiting(make: Callable[[], Coroutine[Any, Any, int]]) -> Callable[[int], object]:
    loop_holder: dict[str, asyncio.AbstractEventLoop] = {}

    async def many(n: int) -> None:
        for _ in range(n):
            await make()

    def run(n: int) -> None:
        loop_holder["loop"].run_until_complete(many(n))

    run.loop_holder = loop_holder  # type: ignore[attr-defined]
    return run


def bench_async(rounds: int, round_s: float) -> list[Timing]:
    service = Service()
    runs = {
        "`await f()` bare coroutine function": _awaiting(noop),
        "`await f()` through smartasync": _awaiting(smart_noop),
        "`await obj.m(1)` bare method": _awaiting(lambda: service.raw(1)),
        "`await obj.m(1)` through smartasync": _awaiting(lambda: service.smart(1)),
    }
    loop = asyncio.new_event_loop()
    try:
        for run in runs.values():
            run.loop_holder["loop"] = loop  # type: ignore[attr-defined]
        return measure_interleaved(runs, rounds, round_s)
    finally:
        loop.close()


# -- report ----------------------------------------------------------------------------


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def report(case2: list[Timing], case1: list[Timing], aio: list[Timing], args: str) -> str:
    lines = [
        "# Bridge benchmark (`ambi.bridge`: smartasync, run_sync)",
        "",
        f"Command: `{COMMAND}{args}`",
        "",
        f"Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{datetime.date.today().isoformat()}.",
        "Trivial coroutine (`async def f(): return 1`). Per-call time: the minimum and the "
        "median over interleaved rounds.",
        "",
        "## Sync call from a plain thread (case 2)",
        "",
        "| way | min µs/call | median µs/call | x ambi (min) |",
        "|---|---:|---:|---:|",
    ]
    base = case2[0].best
    lines += [
        f"| {t.label} | {_us(t.best)} | {_us(t.median)} | {t.best / base:.2f} |" for t in case2
    ]
    ambi1, bare1 = case1
    lines += [
        "",
        "## Sync call from an ambi worker thread to the app loop (case 1)",
        "",
        "| way | min µs/call | median µs/call |",
        "|---|---:|---:|",
        *(f"| {t.label} | {_us(t.best)} | {_us(t.median)} |" for t in case1),
        "",
        f"ambi / bare: {ambi1.best / bare1.best:.3f} (min), "
        f"{ambi1.median / bare1.median:.3f} (median).",
        "",
        "## Async callers: what smartasync adds to `await`",
        "",
        "| call | min µs/call | median µs/call |",
        "|---|---:|---:|",
        *(f"| {t.label} | {_us(t.best)} | {_us(t.median)} |" for t in aio),
        "",
        f"Added by smartasync (min): function {_us(aio[1].best - aio[0].best)} µs, "
        f"method {_us(aio[3].best - aio[2].best)} µs.",
        "",
        "## Targets (the issue's limits, on the minimum)",
        "",
        f"- case 2 sync call <= 12 µs: {_us(case2[0].best)} µs "
        f"({case2[0].best / case2[1].best:.2f}x the bare reused loop)",
        f"- case 1 <= 1.05x a bare run_coroutine_threadsafe: {ambi1.best / bare1.best:.3f}x",
        f"- await overhead <= 0.5 µs: function {_us(aio[1].best - aio[0].best)} µs, "
        f"method {_us(aio[3].best - aio[2].best)} µs",
        "",
    ]
    return "\n".join(lines)


def _shown_args(args: list[str]) -> list[str]:
    """The arguments that change the measurement (not where the table is written)."""
    shown: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--output":
            skip = True
        elif not arg.startswith("--output="):
            shown.append(arg)
    return shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few short rounds; print only")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per measurement")
    parser.add_argument("--round-ms", type=float, default=None, help="minimum round length")
    parser.add_argument("--output", type=Path, default=None, help="where to write the table")
    ns = parser.parse_args(argv)
    rounds = ns.rounds or (2 if ns.quick else 15)
    round_s = (ns.round_ms or (2.0 if ns.quick else 40.0)) / 1000
    extra = " ".join(_shown_args(argv if argv is not None else sys.argv[1:]))
    text = report(
        bench_case2(rounds, round_s),
        bench_case1(rounds, round_s),
        bench_async(rounds, round_s),
        f" {extra}" if extra else "",
    )
    print(text)
    output = ns.output
    if output is not None:
        output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
