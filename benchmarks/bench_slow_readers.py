"""Memory under slow readers, and fast-reader throughput, of a 125 MB `StreamingResponse`
served by `app.listen()` over each server path (issue 8). Run:

    .venv/bin/python -m benchmarks.bench_slow_readers [--readers 1 4] [--seconds 3]

Slow readers: each reads 64 KiB every 100 ms (640 KB/s) through a 16 KiB receive buffer;
the figure is the growth of the server's RSS (main process and workers) from before the
readers to its peak, per reader. Fast reader: one client reading as fast as it can, MB/s
(the median of 5 downloads of 125 MB), and the CPU time the server used for them per GB
(steadier than MB/s on a busy machine). Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

SERVER_PATHS = {
    "granian-rsgi": ("granian", "rsgi"),
    "granian-asgi": ("granian", "asgi"),
    "uvicorn-asgi": ("uvicorn", "asgi"),
}
SIZE = 125_000_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found, pids = [], [pid]
    while pids:
        current = pids.pop()
        found.append(current)
        with contextlib.suppress(OSError, ValueError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pids.extend(int(child) for child in children.read().split())
    return found


def _rss(pid: int) -> int:
    """Resident bytes of `pid` and its descendants."""
    total = 0
    for each in _tree(pid):
        with (
            contextlib.suppress(OSError, IndexError, ValueError),
            open(f"/proc/{each}/status") as f,
        ):
            total += 1024 * int(f.read().split("VmRSS:")[1].split()[0])
    return total


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its descendants."""
    ticks = 0
    for each in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{each}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _start(server_path: str) -> tuple[subprocess.Popen[bytes], int]:
    server, interface = SERVER_PATHS[server_path]
    port = _free_port()
    argv = [sys.executable, "-m", "benchmarks.apps.big_stream", str(port), server, interface]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return proc, port
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{server_path} did not start")


def _read_slowly(port: int, until: float) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET /big?size={SIZE} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        while time.monotonic() < until and sock.recv(64 * 1024):
            time.sleep(0.1)


def _download(port: int, size: int) -> float:
    """MB/s of one download of `size` bytes."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        request = f"GET /big?size={size} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
        start = time.perf_counter()
        sock.sendall(request.encode())
        received = 0
        while data := sock.recv(1 << 20):
            received += len(data)
    return received / (time.perf_counter() - start) / 1e6


def slow_growth(port: int, pid: int, readers: int, seconds: float) -> float:
    """MB of RSS growth per slow reader."""
    before = peak = _rss(pid)
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_read_slowly, args=(port, until)) for _ in range(readers)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, _rss(pid))
        time.sleep(0.05)
    return (peak - before) / 1e6 / readers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--paths", nargs="+", default=list(SERVER_PATHS))
    args = parser.parse_args()
    readers = " | ".join(f"MB per slow reader ({n})" for n in args.readers)
    print(f"| server path | {readers} | fast reader MB/s (median of 5) | server CPU s per GB |")
    print("|---|" + "---:|" * (len(args.readers) + 2))
    for server_path in args.paths:
        growth = []
        for n in args.readers:  # a fresh server for each count: RSS is not given back
            proc, port = _start(server_path)
            try:
                time.sleep(0.5)
                growth.append(slow_growth(port, proc.pid, n, args.seconds))
            finally:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(30)
        proc, port = _start(server_path)
        try:
            _download(port, 10_000_000)  # warm
            cpu = _cpu(proc.pid)
            fast = statistics.median(_download(port, SIZE) for _ in range(5))
            cpu_per_gb = (_cpu(proc.pid) - cpu) / (5 * SIZE / 1e9)
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(30)
        cells = " | ".join(f"{g:.1f}" for g in growth)
        print(f"| {server_path} | {cells} | {fast:.0f} | {cpu_per_gb:.2f} |", flush=True)


if __name__ == "__main__":
    main()
