"""Tail latency of POST /orders with and without `gc.freeze()` after startup.

A/B, interleaved: the ambi benchmark app served by `listen()` (which freezes) and the same
app with `gc.freeze` disabled, each pinned to core 0 with wrk on core 1. Run:

    .venv/bin/python -m benchmarks.bench_gc_freeze [--rounds 3] [--duration 8]
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "benchmarks" / "bench_gc_freeze.lua"
APP_MODULE = "benchmarks.apps.ambi_listen"
SIDES = {"no freeze": "nofreeze", "gc.freeze": "freeze"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def _measure(side: str, duration: int) -> tuple[float, float]:
    port = _free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", APP_MODULE, str(port), side],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(port, time.monotonic() + 15)
        url = f"http://127.0.0.1:{port}/orders"
        base = ["taskset", "-c", "1", "wrk", "-t1", "-c64", "-s", str(LUA)]
        subprocess.run([*base, "-d2s", url], capture_output=True, check=True)  # warm-up
        out = subprocess.run(
            [*base, f"-d{duration}s", "--latency", url], capture_output=True, text=True, check=True
        ).stdout
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, float(p99) * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    for _ in range(args.rounds):
        for side, flag in SIDES.items():
            rows[side].append(_measure(flag, args.duration))
    print("| POST /orders | req/s per round | p99 ms per round |")
    print("|---|---|---|")
    for side, results in rows.items():
        rps = ", ".join(f"{r:,.0f}" for r, _ in results)
        p99 = ", ".join(f"{p:.2f}" for _, p in results)
        print(f"| {side} | {rps} | {p99} |")


if __name__ == "__main__":
    main()
