"""CPU time the server spends per request, for same-run ratios on a busy machine.

Throughput falls and rises with what else the machine runs; the CPU time a server
process group uses per answered request moves much less. For each contender (and
interleaved rounds), the server (one worker, core 0) is loaded by wrk (core 1) and the
user+system time of every process in its group is read from /proc before and after.

    .venv/bin/python -m benchmarks.bench_cpu --endpoint json ambi ambi-mw
    .venv/bin/python -m benchmarks.bench_cpu --realistic ambi fastapi starlette

`WRK_ORIGIN` (the environment) adds an Origin header to the simple endpoints' requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from . import bench_realistic
from .contenders import CONTENDERS, Contender, ServerOptions
from .endpoints import ENDPOINTS
from .servers import HOST, free_port, pinned, running
from .wrk import SCRIPT, parse_report, wrk_path

TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def _server_pgid(port: int) -> int:
    out = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    pid = int(out.split("pid=")[1].split(",")[0])
    return os.getpgid(pid)


def measure(contender: Contender, target: str, script: Path, duration: int) -> tuple[float, float]:
    """(CPU µs per request, req/s) for one contender."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    log = Path(__file__).with_name("out") / "logs" / f"cpu-{contender.name}.log"
    argv = contender.argv(port, ServerOptions.detect())
    with running(argv, port=port, cpu=0, env=env, log=log, ready_timeout=30):
        pgid = _server_pgid(port)
        wrk = [wrk_path() or "wrk", "-t1", "-c64", "--timeout", "10s", "--script", str(script)]
        subprocess.run(
            pinned([*wrk, "-d1s", f"http://{HOST}:{port}{target}"], 1),
            check=True,
            capture_output=True,
        )
        before = group_cpu_seconds(pgid)
        done = subprocess.run(
            pinned([*wrk, f"-d{duration}s", f"http://{HOST}:{port}{target}"], 1),
            capture_output=True,
            text=True,
            check=True,
        )
        used = group_cpu_seconds(pgid) - before
    result = parse_report(done.stdout)
    if result.non_2xx:
        raise SystemExit(f"{contender.name}: {result.non_2xx} non-2xx answers")
    return used / result.requests * 1e6, result.requests_per_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("contenders", nargs="+")
    parser.add_argument("--endpoint", default="json", choices=sorted(ENDPOINTS))
    parser.add_argument("--realistic", action="store_true", help="the realistic-app mix")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    known = {c.name: c for c in (*bench_realistic.CONTENDERS,)} if args.realistic else CONTENDERS
    chosen = [known[name] for name in args.contenders]
    samples: dict[str, list[tuple[float, float]]] = {c.name: [] for c in chosen}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        if args.realistic:
            script.write_text(bench_realistic._lua())
            target = "/"
        else:
            script.write_text(SCRIPT.read_text())
            target = ENDPOINTS[args.endpoint].target
            if ENDPOINTS[args.endpoint].method != "GET":
                raise SystemExit("bench_cpu measures GET endpoints (or --realistic)")
        for round_no in range(args.rounds):
            order = chosen[round_no % len(chosen) :] + chosen[: round_no % len(chosen)]
            for contender in order:
                cpu, rate = measure(contender, target, script, args.duration)
                samples[contender.name].append((cpu, rate))
                print(
                    f"round {round_no + 1} {contender.name}: {cpu:.1f} µs CPU/request, "
                    f"{rate:,.0f} req/s",
                    file=sys.stderr,
                    flush=True,
                )
    first = statistics.median(c for c, _ in samples[chosen[0].name])
    print(f"| contender | CPU µs per request (median) | x {chosen[0].name} | req/s (median) |")
    print("|---|--:|--:|--:|")
    for contender in chosen:
        cpu = statistics.median(c for c, _ in samples[contender.name])
        rate = statistics.median(r for _, r in samples[contender.name])
        print(f"| {contender.name} | {cpu:.1f} | {cpu / first:.2f} | {rate:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
