"""Memory of idle websockets: the server's RSS before and after N connections that say
nothing, per server path, for ambi and for a bare app on the same server (its floor).

    .venv/bin/python -m benchmarks.bench_ws_memory [--connections 1000] [--paths ...]

Each server runs in its own session (Granian's workers included); RSS is summed over every
process of that session, read from /proc. The client (this process) opens the connections
with the `websockets` package, checks that one of them still echoes, then measures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
PATHS = {
    "granian-rsgi": ("granian", "rsgi"),
    "granian-asgi": ("granian", "asgi"),
    "uvicorn-asgi": ("uvicorn", "asgi"),
}
SETTLE_S = 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def session_rss_kib(session: int) -> int:
    """The summed VmRSS (KiB) of every process in `session`."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) != session:  # the session id, after state, ppid, pgrp
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return total


def _wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


@dataclass
class Result:
    path: str
    app: str
    connections: int
    before_kib: int
    after_kib: int

    @property
    def per_connection_kib(self) -> float:
        return (self.after_kib - self.before_kib) / self.connections


async def _open(port: int, count: int) -> list[ClientConnection]:
    url = f"ws://127.0.0.1:{port}/ws"
    opened: list[ClientConnection] = []
    for start in range(0, count, 100):  # in batches: the listen backlog is finite
        batch = [
            connect(url, ping_interval=None, open_timeout=30)
            for _ in range(start, min(count, start + 100))
        ]
        opened.extend(await asyncio.gather(*batch))
    return opened


async def _measure_open(port: int, count: int, session: int) -> tuple[int, int]:
    await asyncio.sleep(SETTLE_S)
    before = session_rss_kib(session)
    sockets = await _open(port, count)
    try:
        await sockets[-1].send("still there?")
        if await asyncio.wait_for(sockets[-1].recv(), 10) != "still there?":
            raise SystemExit("the last connection did not echo")
        await asyncio.sleep(SETTLE_S)
        after = session_rss_kib(session)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return before, after


def measure(path: str, app: str, count: int) -> Result:
    server, interface = PATHS[path]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.apps.ws_idle", str(port), server, interface, app],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(port, time.monotonic() + 20)
        before, after = asyncio.run(_measure_open(port, count, proc.pid))
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    return Result(path, app, count, before, after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--paths", nargs="*", default=list(PATHS), choices=list(PATHS))
    args = parser.parse_args(argv)
    print(f"{args.connections} idle websockets; server RSS summed over its processes")
    print("| server | app | RSS before (MiB) | RSS after (MiB) | per connection (KiB) | vs bare |")
    print("|---|---|--:|--:|--:|--:|")
    for path in args.paths:
        bare = measure(path, "bare", args.connections)
        ambi = measure(path, "ambi", args.connections)
        for result in (bare, ambi):
            ratio = (
                result.per_connection_kib / bare.per_connection_kib
                if bare.per_connection_kib > 0
                else float("nan")
            )
            print(
                f"| {path} | {result.app} | {result.before_kib / 1024:.1f} | "
                f"{result.after_kib / 1024:.1f} | {result.per_connection_kib:.1f} | {ratio:.2f}x |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
