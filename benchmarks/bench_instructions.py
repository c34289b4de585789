"""Instructions per request (valgrind's callgrind), for cases of `bench_request`: a count
that a busy machine does not disturb, unlike wall time.

Each case runs twice under callgrind, with `--requests 0` and with `--requests N`; the
difference over N is the instructions one request costs (startup cancels out). Run:

    .venv/bin/python -m benchmarks.bench_instructions [--requests 2000] [CASE ...]

(CASE: a key of `bench_request.CASES`, default: the /json cases.) Needs valgrind.
`--keep DIR` keeps the callgrind files (`callgrind_annotate DIR/<case>-<N>.out`).

The loop-blocking detector is off: its thread wakes on a timer, so its instructions follow
wall time (which valgrind and the machine's load stretch), not requests; with it running,
the same build's /json moved by thousands of instructions per request between runs. The
warm-up serves 1,100 requests first, so that a trivial `def` handler is measured as
adaptive inline runs it once promoted (its time limits scaled by `VALGRIND_SLOWDOWN`:
unscaled, valgrind's slowness and thread switches kept trivial handlers from ever being
promoted, unlike natively). After the requests, the app's metrics are read once
(`app.metrics()`), so that with metrics on the histogram work they
leave for later is in the count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile

from ambi.app import DEFAULT_INLINE_AFTER

from .bench_request import CASES, _serve

WARMUP = DEFAULT_INLINE_AFTER + 100
DEFAULT = [name for name in CASES if name.startswith("GET /json")]


#: valgrind runs code ~50-100x slower than natively: the adaptive-inline policy's
#: wall-clock limits are scaled by this under it, so what is promoted natively is promoted.
VALGRIND_SLOWDOWN = 100


def _scale_adaptive_limits() -> None:
    import gc

    from ambi.execution._adaptive import Adaptive

    for obj in gc.get_objects():
        if isinstance(obj, Adaptive):
            obj._threshold *= VALGRIND_SLOWDOWN
            obj._stall *= VALGRIND_SLOWDOWN


async def _drive(name: str, n: int, freeze: bool = False) -> None:
    _scale_adaptive_limits()
    app, scope = CASES[name]
    # The loop-blocking detector off (a timer thread: instructions by wall time, not by
    # request). Stopped after startup instead, it sometimes reported valgrind's slow startup
    # as a stall (a stack formatted from source lines, a warning logged): ~4M instructions
    # in one process and not in its pair, +2,000 "per request" (RESULTS.md, session 9).
    app.engine.block_threshold = None
    await app.startup()
    watchdog = app.engine.watchdog
    if watchdog is not None:
        watchdog.stop()  # made by an earlier start
    try:
        # Warm: first-use caches, lazy imports, and past adaptive inline's promotion of a
        # trivial `def` (DEFAULT_INLINE_AFTER calls): the steady state a server reaches.
        await _serve(app, scope, WARMUP)
        if freeze:  # as `app.listen()` does after startup: full collections skip the app
            import gc

            gc.collect()
            gc.freeze()
        await _serve(app, scope, n)
        # With metrics on, requests leave their latencies to be counted when the metrics
        # are read (or once a second): read them once, so that this work is counted too.
        app.metrics()
    finally:
        await app.shutdown()


def _count(name: str, n: int, keep: str | None = None, freeze: bool = False) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = tmp if keep is None else keep
        os.makedirs(out, exist_ok=True)
        file = f"{re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_')}-{n}.out"
        child = ["-m", "benchmarks.bench_instructions", "--child", name, str(n)]
        return callgrind(f"{out}/{file}", [*child, *(["--freeze"] if freeze else [])])


def callgrind(out_file: str, python_args: list[str]) -> int:
    """Instructions counted by callgrind over `python python_args` (output in `out_file`)."""
    argv = [
        *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"),
        *(sys.executable, *python_args),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if match is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="*", default=DEFAULT)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files in DIR")
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() after the warm-up, as app.listen() does after startup (the garbage "
        "collector's full passes otherwise differ between processes by ~1k per request)",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_drive(args.child[0], int(args.child[1]), args.freeze))
        return
    print("| case | instructions per request | vs first |")
    print("|---|---:|---:|")
    first = None
    for name in args.cases:
        counts = [_count(name, n, args.keep, args.freeze) for n in (args.requests, 0)]
        per_request = (counts[0] - counts[1]) / args.requests
        first = first or per_request
        print(f"| {name} | {per_request:,.0f} | {per_request / first:.3f}x |", flush=True)


if __name__ == "__main__":
    main()
