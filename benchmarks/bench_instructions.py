"""Instructions per request (valgrind's callgrind), for cases of `bench_request`: a count
that a busy machine does not disturb, unlike wall time.

Each case runs twice under callgrind, with `--requests 0` and with `--requests N`; the
difference over N is the instructions one request costs (startup cancels out). Run:

    .venv/bin/python -m benchmarks.bench_instructions [--requests 2000] [CASE ...]

(CASE: a key of `bench_request.CASES`, default: the /json cases.) Needs valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile

from .bench_request import CASES, _serve

DEFAULT = [name for name in CASES if name.startswith("GET /json")]


async def _drive(name: str, n: int) -> None:
    app, scope = CASES[name]
    await app.startup()
    try:
        await _serve(app, scope, 50)  # warm: first-use caches, lazy imports
        await _serve(app, scope, n)
    finally:
        await app.shutdown()


def _count(name: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as out:
        argv = [
            *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out"),
            *(sys.executable, "-m", "benchmarks.bench_instructions", "--child", name, str(n)),
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
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_drive(args.child[0], int(args.child[1])))
        return
    print("| case | instructions per request | vs first |")
    print("|---|---:|---:|")
    first = None
    for name in args.cases:
        per_request = (_count(name, args.requests) - _count(name, 0)) / args.requests
        first = first or per_request
        print(f"| {name} | {per_request:,.0f} | {per_request / first:.3f}x |", flush=True)


if __name__ == "__main__":
    main()
