"""Instructions per awaited body read with the body timeout's bookkeeping (callgrind), beside
a bare `await` and `asyncio.timeout` (a timer per read). Run:

    .venv/bin/python -m benchmarks.bench_body_timeout [--reads 20000]

Each mode runs twice under callgrind, with 0 and N reads; the difference over N is the cost
of one read (startup cancels out). Needs valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from time import monotonic

from ambi import App
from ambi.servers._deadlines import body_deadlines

MODES = (
    "bare await",
    "sweeping timer, inline watch (RSGI's Content-Length read)",
    "sweeping timer, BodyDeadlines.read (the other reads)",
    "asyncio.timeout per read",
)


async def _reads(mode: str, n: int) -> None:
    clock = body_deadlines(App(body_timeout=30))
    assert clock is not None
    for _ in range(n):
        if mode == MODES[0]:
            await asyncio.sleep(0)
        elif mode == MODES[1]:
            task = asyncio.current_task()
            waiting = clock.waiting
            waiting[task] = monotonic() + clock.timeout  # type: ignore[index]
            clock.wake()
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                clock.timed_out(task)  # type: ignore[arg-type]
                raise
            finally:
                waiting.pop(task, None)  # type: ignore[arg-type]
        elif mode == MODES[2]:
            await clock.read(asyncio.sleep(0))
        else:
            async with asyncio.timeout(30):
                await asyncio.sleep(0)


def _count(mode: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as out:
        argv = [
            *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out"),
            *(sys.executable, "-m", "benchmarks.bench_body_timeout", "--child", mode, str(n)),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
        match = re.search(r"Collected : (\d+)", proc.stderr)
        if proc.returncode != 0 or match is None:
            raise SystemExit(proc.stderr[-2000:])
        return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=20000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_reads(args.child[0], int(args.child[1])))
        return
    print("| per read | instructions |\n|---|---:|")
    for mode in MODES:
        per_read = (_count(mode, args.reads) - _count(mode, 0)) / args.reads
        print(f"| {mode} | {per_read:,.0f} |")


if __name__ == "__main__":
    main()
