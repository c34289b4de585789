"""Instructions per request of the realistic scenario's request mix (`apps/realistic.py`),
in-process under valgrind's callgrind: the ambi app (`apps/realistic_ambi.py`, through
`app.__rsgi__`) against the hand-written RSGI twin (`apps/realistic_rsgi.py`).

A count that a busy machine does not disturb, unlike `bench_realistic`'s req/s. It leaves
out what the server does per request (Granian's HTTP work, in Rust, the same for both),
so the served ratio is closer to 1 than this one. The stand-in protocol is
`bench_request`'s; the request headers are a dict as Granian's are a Rust mapping (the
test client's Python stand-in would charge the twin's header reads to Python). Each side
runs twice under callgrind, with `--rounds 0` and `--rounds N` (N times the 12-request
mix, after a warm-up past adaptive inline's promotion); the difference over the requests
is one request's cost. Run:

    .venv/bin/python -m benchmarks.bench_realistic_instructions [--rounds 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from .apps import realistic as spec
from .bench_instructions import VALGRIND_SLOWDOWN, callgrind
from .bench_request import _Proto

SIDES = ("bare-rsgi", "ambi")
WARMUP_ROUNDS = 100  # 1,200 requests: past adaptive inline's promotion


class _Headers(dict[str, str]):
    """Request headers as Granian gives them: `get` and `in` by name, `items()` a list."""

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(super().items())


class _Scope:
    proto = "http"
    http_version = "1.1"
    client = "127.0.0.1:50000"
    server = "127.0.0.1:8000"
    scheme = "http"

    def __init__(self, method: str, target: str, body: bytes | None) -> None:
        self.method = method
        self.path, _, self.query_string = target.partition("?")
        headers = {"host": "127.0.0.1:8000", **{k.lower(): v for k, v in spec.HEADERS.items()}}
        if body is not None:
            headers["content-type"] = "application/json"
            headers["content-length"] = str(len(body))
        self.headers = _Headers(headers)
        self.body = body or b""


SCOPES = [_Scope(method, target, body) for method, target, body in spec.REQUESTS]


async def _serve(entry: Callable[[Any, Any], Awaitable[None]], rounds: int) -> None:
    for _ in range(rounds):
        for scope in SCOPES:
            proto = _Proto(scope.body)
            await entry(scope, proto)
            if proto.status != 200:
                raise SystemExit(f"{scope.method} {scope.path} answered {proto.status}")


async def _drive(side: str, rounds: int) -> None:
    if side == "bare-rsgi":
        from .apps.realistic_rsgi import app as twin

        await _serve(twin, WARMUP_ROUNDS)
        gc.collect()
        gc.freeze()
        await _serve(twin, rounds)
        return
    from ambi.execution._adaptive import Adaptive

    from .apps.realistic_ambi import app

    for obj in gc.get_objects():  # valgrind's slowness must not keep `def`s from promotion
        if isinstance(obj, Adaptive):
            obj._threshold *= VALGRIND_SLOWDOWN
            obj._stall *= VALGRIND_SLOWDOWN
    await app.startup()
    if app.engine.watchdog is not None:
        app.engine.watchdog.stop()  # a timer thread: instructions by wall time
    try:
        await _serve(app.__rsgi__, WARMUP_ROUNDS)
        gc.collect()
        gc.freeze()
        await _serve(app.__rsgi__, rounds)
    finally:
        await app.shutdown()


def _count(side: str, rounds: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        child = ["-m", "benchmarks.bench_realistic_instructions", "--child", side, str(rounds)]
        return callgrind(f"{tmp}/out", child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100, help="times the mix (12 requests)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_drive(args.child[0], int(args.child[1])))
        return
    requests = args.rounds * len(SCOPES)
    per_request = {side: (_count(side, args.rounds) - _count(side, 0)) / requests for side in SIDES}
    print("| realistic mix, in-process | instructions per request | bare-rsgi / this |")
    print("|---|---:|---:|")
    for side in SIDES:
        ratio = per_request["bare-rsgi"] / per_request[side]
        print(f"| {side} | {per_request[side]:,.0f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
