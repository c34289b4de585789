"""What rate limiting and JWT verification cost `/json` (benchmarks/apps/ambi_security.py:
the same handler bare, behind an in-process token bucket, behind a Redis token bucket,
behind HS256 JWT verification). Three measures, each a same-run comparison with bare
`/json`, because this machine is shared and absolute figures drift:

    .venv/bin/python -m benchmarks.bench_security               # in-process µs/request
    .venv/bin/python -m benchmarks.bench_security --callgrind   # instructions/request
    .venv/bin/python -m benchmarks.bench_security --wrk         # req/s on Granian (RSGI)

- in-process: requests through `app.__rsgi__` with the test client's protocol object, the
  endpoints interleaved round by round; the median µs per request of each;
- callgrind: the Python process serving N requests in-process under valgrind, twice (N
  and 3N); (instructions(3N) - instructions(N)) / 2N is the per-request count, free of
  start-up and of the machine's load;
- wrk: one Granian worker (RSGI) pinned to core 0, wrk (1 thread, 64 connections) on
  core 1, every endpoint once per round, rounds interleaved; median req/s, and the
  server's CPU time per request (user + system of its process group, from /proc, over
  the requests wrk counted), which other processes' load disturbs far less than req/s.

(Callgrind over the whole server was tried and dropped: an idle Granian worker runs
~195k instructions a second in timers, and under valgrind a request takes milliseconds,
so that background swamps the few thousand instructions per request compared here.)

`--verify` adds the cost of `JWTAuth.verify` alone (PyJWT's `decode`) to the in-process
table. Redis is 127.0.0.1:6379; `/json-redis` is skipped when it does not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["/json", "/json-limited", "/json-limited-x", "/json-redis", "/json-jwt"]


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis(socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _headers(path: str) -> list[tuple[str, str]]:
    from benchmarks.apps.ambi_security import TOKEN

    headers = [("host", "127.0.0.1:8000"), ("user-agent", "bench")]
    if path == "/json-jwt":
        headers.append(("authorization", f"Bearer {TOKEN}"))
    return headers


# In-process ---------------------------------------------------------------------------------


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
        from ambi._testing_wire import _RSGIHeaders

        self.path = path
        self.headers = _RSGIHeaders(_headers(path))


async def _serve(paths: list[str], n: int) -> None:
    """Serve `n` requests to each of `paths` in-process (what callgrind counts)."""
    from ambi._testing_wire import _RSGIProto
    from benchmarks.apps.ambi_security import app

    await app.startup()
    watchdog = app.engine.watchdog
    if watchdog is not None:
        watchdog.stop()  # a timer thread: instructions by wall time (bench_instructions)
    try:
        for path in paths:
            scope = _Scope(path)
            for _ in range(n):
                proto = _RSGIProto(b"")
                await app.__rsgi__(scope, proto)  # type: ignore[arg-type]
                if proto.status != 200:
                    raise SystemExit(f"{path} answered {proto.status}")
    finally:
        await app.shutdown()


async def _timed(paths: list[str], n: int, rounds: int) -> dict[str, float]:
    from ambi._testing_wire import _RSGIProto
    from benchmarks.apps.ambi_security import app

    samples: dict[str, list[float]] = {p: [] for p in paths}
    await app.startup()
    try:
        for _ in range(rounds):
            for path in paths:
                scope = _Scope(path)
                count = n // 10 if path == "/json-redis" else n
                started = time.perf_counter()
                for _ in range(count):
                    await app.__rsgi__(scope, _RSGIProto(b""))  # type: ignore[arg-type]
                samples[path].append((time.perf_counter() - started) / count * 1e6)
    finally:
        await app.shutdown()
    return {p: statistics.median(v) for p, v in samples.items()}


def _verify_cost() -> float:
    from ambi.security import JWTAuth
    from benchmarks.apps.ambi_security import SECRET, TOKEN

    auth = JWTAuth(SECRET)
    n = 5_000
    return min(timeit.repeat(lambda: auth.verify(TOKEN), number=n, repeat=5)) / n * 1e6


def in_process(paths: list[str], quick: bool, verify: bool) -> None:
    n, rounds = (200, 1) if quick else (10_000, 5)
    result = asyncio.run(_timed(paths, n, rounds))
    base = result["/json"]
    print("| endpoint | µs per request (in-process, median) | vs /json |")
    print("|---|--:|--:|")
    for path, micros in result.items():
        print(f"| GET {path} | {micros:.1f} | {base / micros:.2f}x |")
    if verify:
        print(f"| JWTAuth.verify alone (HS256, best of 5) | {_verify_cost():.1f} | |")


# callgrind ----------------------------------------------------------------------------------


def _instructions(path: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "benchmarks.bench_security",
                "--serve",
                path,
                str(n),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONMALLOC": "malloc"},
        )
        match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if match is None:
            raise SystemExit("no instruction count in callgrind's output")
        return int(match.group(1))


def callgrind(paths: list[str], n: int) -> None:
    print(
        f"| endpoint | instructions per request (callgrind, ({3 * n} - {n}) / {2 * n}) | vs /json |"
    )
    print("|---|--:|--:|")
    counts = {p: (_instructions(p, 3 * n) - _instructions(p, n)) / (2 * n) for p in paths}
    base = counts["/json"]
    for path, count in counts.items():
        print(f"| GET {path} | {count:,.0f} | {base / count:.2f}x |")


# wrk ----------------------------------------------------------------------------------------


def _wrk(port: int, path: str, duration: int) -> tuple[int, float]:
    """Requests served and req/s of one wrk run."""
    from benchmarks.servers import pinned
    from benchmarks.wrk import SCRIPT, parse_report

    argv = ["wrk", "--threads", "1", "--connections", "64", "--duration", f"{duration}s"]
    argv += ["--timeout", "5s"]
    if path == "/json-jwt":
        argv += ["-H", "Authorization: " + dict(_headers(path))["authorization"]]
    argv += ["--script", str(SCRIPT), f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(pinned(argv, 1), capture_output=True, text=True, check=True)
    report = parse_report(done.stdout)
    if report.non_2xx or report.socket_errors:
        raise SystemExit(f"{path}: {report.non_2xx} non-2xx, {report.socket_errors} errors")
    return report.requests, report.requests_per_s


def wrk(paths: list[str], rounds: int, duration: int) -> None:
    from benchmarks.servers import (
        free_port,
        group_cpu_s,
        log_tail,
        pinned,
        stop,
        wait_until_answering,
    )

    port = free_port()
    argv = [
        *(sys.executable, "-m", "granian", "--interface", "rsgi", "--workers", "1"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        "benchmarks.apps.ambi_security:app",
    ]
    rates: dict[str, list[float]] = {p: [] for p in paths}
    cpu: dict[str, list[float]] = {p: [] for p in paths}
    log = Path(tempfile.gettempdir()) / "ambi-bench-security.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            pinned(argv, 0), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_answering(proc, port, 30, log)
        for path in paths:
            _wrk(port, path, 1)  # warm-up
        for n in range(rounds):
            for path in paths[n % len(paths) :] + paths[: n % len(paths)]:
                before = group_cpu_s(proc.pid)
                served, per_s = _wrk(port, path, duration)
                cpu[path].append((group_cpu_s(proc.pid) - before) / served * 1e6)
                rates[path].append(per_s)
    except BaseException:
        print(log_tail(log), file=sys.stderr)
        raise
    finally:
        stop(proc)
    base_rate = statistics.median(rates["/json"])
    base_cpu = statistics.median(cpu["/json"])
    print(
        f"| endpoint | req/s (median of {rounds}) | vs /json | req/s range "
        "| server CPU µs per request (median) | vs /json |"
    )
    print("|---|--:|--:|--:|--:|--:|")
    for path in paths:
        rate, used = statistics.median(rates[path]), statistics.median(cpu[path])
        print(
            f"| GET {path} | {rate:,.0f} | {rate / base_rate:.2f}x | "
            f"{min(rates[path]):,.0f} .. {max(rates[path]):,.0f} | {used:.1f} | "
            f"{base_cpu / used:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callgrind", action="store_true", help="count instructions")
    parser.add_argument("--wrk", action="store_true", help="load a real server with wrk")
    parser.add_argument("--verify", action="store_true", help="also time JWTAuth.verify alone")
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--paths", nargs="+", choices=PATHS, help="only these endpoints")
    parser.add_argument("--serve", nargs=2, metavar=("PATH", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("AMBI_BENCH_REDIS_PREFIX", f"ambi-bench:{uuid.uuid4().hex}")
    if args.serve:
        asyncio.run(_serve([args.serve[0]], int(args.serve[1])))
        return
    wanted = ["/json", *(p for p in args.paths or PATHS if p != "/json")]
    paths = [p for p in wanted if p != "/json-redis" or _redis_up()]
    if args.callgrind:
        callgrind(paths, 100 if args.quick else 1_000)
    elif args.wrk:
        wrk(paths, 1 if args.quick else args.rounds, 1 if args.quick else args.duration)
    else:
        in_process(paths, args.quick, args.verify)


if __name__ == "__main__":
    main()
