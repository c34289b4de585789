"""The realistic-app scenario: one 63-route app (three routers, static and dynamic paths,
CORS + request id, an auth header dependency on most routes, a JSON body route) written
in ambi, FastAPI and Starlette (`apps/realistic*.py`), and by hand on Granian's RSGI
(`apps/realistic_rsgi.py`: the ceiling, "bare-rsgi"), under a mixed request load.

Each contender is served by one worker on core 0 (ambi by Granian over RSGI and over
ASGI, the peers by uvicorn), checked (every request of the mix answers 200 with the
expected JSON, CORS and request-id headers), warmed up, then loaded by wrk on core 1
with 64 connections cycling through the mix (`realistic.REQUESTS`, each with the
Authorization and Origin headers a browser app sends). Rounds are interleaved and the
contender order rotates. Run:

    .venv/bin/python -m benchmarks.bench_realistic [--rounds 3] [--duration 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import orjson

from .apps import realistic as spec
from .contenders import Contender, ServerOptions
from .environment import loadavg, machine, versions
from .servers import HOST, free_port, group_cpu_s, pinned, running
from .wrk import SCRIPT, WrkResult, parse_report, wrk_path

BARE = "bare-rsgi"
CONTENDERS = (
    Contender(BARE, "benchmarks.apps.realistic_rsgi:app", "granian", "rsgi"),
    Contender("ambi", "benchmarks.apps.realistic_ambi:app", "granian", "rsgi"),
    Contender("ambi-asgi", "benchmarks.apps.realistic_ambi:app", "granian", "asgi"),
    # the request id from an ASGI middleware: bridged over RSGI, or served over ASGI
    Contender("ambi+asgi-mw", "benchmarks.apps.realistic_ambi_asgi:app", "granian", "rsgi"),
    Contender("ambi+asgi-mw-asgi", "benchmarks.apps.realistic_ambi_asgi:app", "granian", "asgi"),
    Contender("starlette", "benchmarks.apps.realistic_starlette:app", "uvicorn", "asgi"),
    Contender("fastapi", "benchmarks.apps.realistic_fastapi:app", "uvicorn", "asgi"),
)
LOGS = Path(__file__).with_name("out") / "logs"


def _lua() -> str:
    """A wrk script cycling through the request mix (built once per thread in init)."""
    entries = []
    for method, target, body in spec.REQUESTS:
        headers = dict(spec.HEADERS)
        if body is not None:
            headers["Content-Type"] = "application/json"
        lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
        lua_body = "nil" if body is None else json.dumps(body.decode())
        entries.append(f'  {{"{method}", "{target}", {{{lua_headers}}}, {lua_body}}},')
    return "\n".join(
        [
            "local mix = {",
            *entries,
            "}",
            "local prepared = {}",
            "local index = 0",
            "function init(args)",
            "  for i, r in ipairs(mix) do prepared[i] = wrk.format(r[1], r[2], r[3], r[4]) end",
            "end",
            "function request()",
            "  index = index % #prepared + 1",
            "  return prepared[index]",
            "end",
            SCRIPT.read_text(),
        ]
    )


def check(port: int) -> str | None:
    """None when every request of the mix is answered right, else what went wrong."""
    for method, target, body in spec.REQUESTS:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            headers = dict(spec.HEADERS)
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200 or orjson.loads(payload) != spec.expected(method, target):
                return f"{method} {target}: {response.status} {payload[:200]!r}"
            if response.getheader("access-control-allow-origin") != spec.ORIGIN:
                return f"{method} {target}: no CORS header"
            if not response.getheader("x-request-id"):
                return f"{method} {target}: no request id"
        finally:
            conn.close()
    return None


def load(port: int, script: Path, duration: int, connections: int) -> WrkResult:
    import subprocess

    argv = [
        *(wrk_path() or "wrk", "--threads", "1", "--connections", str(connections)),
        *("--duration", f"{duration}s", "--timeout", "5s", "--script", str(script)),
        f"http://{HOST}:{port}/",
    ]
    proc = subprocess.run(
        pinned(argv, 1), capture_output=True, text=True, timeout=duration + 30, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed: {proc.stderr}")
    return parse_report(proc.stdout)


def report(
    chosen: list[Contender],
    results: dict[str, list[WrkResult]],
    cpu: dict[str, list[float]],
    *,
    options: ServerOptions,
    args: argparse.Namespace,
    load_before: str,
) -> None:
    """The results table: medians of the rounds, against the hand-written app and FastAPI."""
    medians = {n: statistics.median(r.requests_per_s for r in rs) for n, rs in results.items()}
    fastapi = medians.get("fastapi")
    bare = medians.get(BARE)
    cpu_medians = {n: statistics.median(values) for n, values in cpu.items()}
    bare_cpu = cpu_medians.get(BARE)
    print(
        f"- machine: {machine()}; load average {load_before} at the start, {loadavg()} at the end"
    )
    print(f"- {versions()}")
    print(
        f"- {args.rounds} rounds, {args.duration} s each (+{args.warmup} s warm-up), "
        f"{args.connections} connections, event loop {options.loop}, uvicorn {options.http}"
    )
    print()
    print(
        "| contender | server | req/s (median) | p99 ms (median) | vs bare-rsgi | vs fastapi "
        "| server CPU µs per request (median) | vs bare-rsgi (CPU) | req/s per round |"
    )
    print("|---|---|--:|--:|--:|--:|--:|--:|---|")
    for contender in chosen:
        runs = results[contender.name]
        p99 = statistics.median(r.p99_ms for r in runs)
        ratio = f"{medians[contender.name] / fastapi:.2f}x" if fastapi else "-"
        to_bare = f"{medians[contender.name] / bare:.2f}x" if bare else "-"
        used = cpu_medians[contender.name]
        cpu_ratio = f"{bare_cpu / used:.2f}x" if bare_cpu else "-"
        rounds = ", ".join(f"{r.requests_per_s:,.0f}" for r in runs)
        print(
            f"| {contender.name} | {contender.describe(options)} | "
            f"{medians[contender.name]:,.0f} | {p99:.2f} | {to_bare} | {ratio} | "
            f"{used:.1f} | {cpu_ratio} | {rounds} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--frameworks", default=",".join(c.name for c in CONTENDERS))
    args = parser.parse_args()
    if wrk_path() is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    chosen = [c for c in CONTENDERS if c.name in args.frameworks.split(",")]
    options = ServerOptions.detect()
    results: dict[str, list[WrkResult]] = {c.name: [] for c in chosen}
    cpu: dict[str, list[float]] = {c.name: [] for c in chosen}  # server µs per request
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "realistic.lua"
        script.write_text(_lua())
        for round_no in range(args.rounds):
            order = chosen[round_no % len(chosen) :] + chosen[: round_no % len(chosen)]
            for contender in order:
                port = free_port()
                log = LOGS / f"realistic-{contender.name}.log"
                argv = contender.argv(port, options)
                with running(argv, port=port, cpu=0, env=env, log=log, ready_timeout=30) as proc:
                    problem = check(port)
                    if problem is not None:
                        raise SystemExit(f"{contender.name} answered wrongly: {problem}")
                    if args.warmup:
                        load(port, script, args.warmup, args.connections)
                    before = group_cpu_s(proc.pid)
                    result = load(port, script, args.duration, args.connections)
                    used = group_cpu_s(proc.pid) - before
                cpu[contender.name].append(used / max(result.requests, 1) * 1e6)
                if result.non_2xx or result.socket_errors:
                    raise SystemExit(f"{contender.name}: {result.non_2xx} non-2xx, errors")
                results[contender.name].append(result)
                print(
                    f"round {round_no + 1} {contender.name}: {result.requests_per_s:,.0f} req/s",
                    file=sys.stderr,
                    flush=True,
                )
    report(chosen, results, cpu, options=options, args=args, load_before=load_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
