"""Uploads: ambi against FastAPI, one 100 MB multipart upload, then 200 concurrent 100 KB
uploads, in one run on one machine.

    python -m benchmarks.bench_uploads [--rounds 3] [--big-mb 100] [--small-kb 100]
                                       [--small-count 200] [--small-waves 1] [--warmup N]
                                       [--contenders a,b] [--baseline SRC]

Each contender (one worker, pinned to core 0) gets the same request bytes from a raw-socket
client pinned to core 1: multipart bodies built once in memory, each sent on a fresh
connection with `Connection: close`; every answer must be a 200 with the right size. Each
server is warmed up first (not measured): a 4 MB upload, then `--warmup` small ones at
once (default: as many as the measured phase), so that the phases see a server in its
steady state, not a fresh process's first garbage collections. The server's processes'
summed RSS is sampled every 5 ms during the phases; "idle" is as the server started, before
the warm-up, and the peak is reported. MB/s are upload bytes over wall time of a phase;
"overall" is both phases' bytes over both phases' time. Rounds are interleaved and the
median is reported.

Server CPU is the time on CPU of the server's threads (/proc/PID/task/TID/schedstat, in
nanoseconds) over each phase (until the server is idle again, so the big upload's temporary
file closed after its answer is charged to it): the big upload's, and the small ones'
divided by their count; a figure the machine's load skews much less than wall time. (A
thread that ends during a phase takes its time with it; the servers' threads here live as
long as the server.) Client CPU is this process's over both phases (with the RSS sampler's
thread).

`--baseline SRC` adds the contenders base-rsgi and base-asgi: ambi's app served with `SRC`
(the `src` folder of another ambi tree, e.g. from `git archive main src`) first on the
server's PYTHONPATH, in the same rounds (before and after a change, paired).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.contenders import Contender, ServerOptions, package_version
from benchmarks.servers import HOST, free_port, pinned, stop, wait_until_answering

CONTENDERS = {
    c.name: c
    for c in (
        Contender("ambi-rsgi", "benchmarks.apps.uploads:ambi_app", "granian", "rsgi"),
        Contender("ambi-asgi", "benchmarks.apps.uploads:ambi_app", "granian", "asgi"),
        Contender("fastapi", "benchmarks.apps.uploads_fastapi:app", "uvicorn", "asgi"),
        Contender("base-rsgi", "benchmarks.apps.uploads:ambi_app", "granian", "rsgi"),
        Contender("base-asgi", "benchmarks.apps.uploads:ambi_app", "granian", "asgi"),
    )
}
#: The contenders served with `--baseline`'s tree (run only when it is given).
BASELINE = ("base-rsgi", "base-asgi")
BOUNDARY = "ambi-bench-boundary-7d1f"
MB = 1_000_000


def multipart(size: int) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + os.urandom(size) + f"\r\n--{BOUNDARY}--\r\n".encode()


def request_bytes(port: int, body: bytes) -> bytes:
    return (
        f"POST /upload HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def upload(port: int, payload: bytes, expected_size: int) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, (HOST, port))
        await loop.sock_sendall(sock, memoryview(payload))  # no copy of the payload
        parts = []
        while chunk := await loop.sock_recv(sock, 65536):  # Connection: close: to the end
            parts.append(chunk)
    finally:
        sock.close()
    answer = b"".join(parts)
    status = answer.split(b"\r\n", 1)[0]
    if b" 200 " not in status or f'"size":{expected_size}'.encode() not in answer:
        raise SystemExit(f"wrong answer: {answer[:300]!r}")


async def phase(port: int, payload: bytes, size: int, count: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(upload(port, payload, size) for _ in range(count)))
    return time.perf_counter() - start


def session_pids(session: int) -> list[int]:
    """The processes of `session` (the server's: Granian's main process and its worker)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session:  # the session id, after state, ppid, pgrp
            pids.append(int(entry))
    return pids


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def rss_kib(pids: list[int]) -> int:
    """The summed resident size (KiB, as VmRSS counts it) of `pids`."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakRSS:
    """Samples the summed RSS of a server's processes in a thread; `peak` in KiB.

    The processes are listed once (the server started them all before the warm-up): a
    scan of all of /proc took ~7 ms on a busy machine, so sampling it every 5 ms kept this
    thread, and with it the GIL, busy beside the client's event loop (the client was the
    bottleneck of the small uploads: same MB/s for every contender)."""

    def __init__(self, session: int) -> None:
        self.pids = session_pids(session)
        self.idle = rss_kib(self.pids)  # now, before any upload
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pids))
            self._stop.wait(0.005)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _thread_files(pids: list[int], name: str) -> Iterator[bytes]:
    """The `/proc/PID/task/TID/<name>` file of every thread of `pids` still there."""
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/{name}", "rb") as file:
                    yield file.read()
            except OSError:
                continue


def server_cpu_seconds(pids: list[int]) -> float:
    """The time on CPU of every thread of `pids` (schedstat: nanoseconds, not 10 ms ticks)."""
    return sum(int(stat.split()[0]) for stat in _thread_files(pids, "schedstat")) / 1e9


def warm_up(port: int, small_request: bytes, small_size: int, count: int) -> None:
    """A 4 MB upload (spooled to disk) and `count` small ones at once, not measured: the
    measured phases then see the server in its steady state (its first collections of
    the garbage collector, its heap grown, its threads started), as a server that has
    run a while is. (With 5 small uploads only, a fresh process's first full collection
    fell into the 200 small uploads, each charged ~100-200 us more of server CPU.)"""
    size = 4 * MB
    asyncio.run(phase(port, request_bytes(port, multipart(size)), size, 1))
    if count:
        asyncio.run(phase(port, small_request, small_size, count))


def running_threads(pids: list[int]) -> int:
    """How many threads of `pids` are running or waiting for a core (state R)."""
    return sum(stat.rsplit(b")", 1)[1].split()[0] == b"R" for stat in _thread_files(pids, "stat"))


def settle(pids: list[int], limit: float = 5.0) -> None:
    """Wait until the server is idle (work left after its last answer: closing a temporary
    file, collecting garbage), so that each phase is charged its own work: no thread
    running or waiting for a core, and (next to) no CPU used over 50 ms. (CPU alone is not
    enough on a loaded machine: a server waiting for its core uses none.)"""
    deadline = time.monotonic() + limit
    last = server_cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = server_cpu_seconds(pids)
        if now - last < 0.0005 and not running_threads(pids):  # wake-ups: ~0.1 ms in 50
            return
        last = now


@dataclass
class Cell:
    big_s: float
    small_s: float
    idle_kib: int
    peak_kib: int
    big_cpu: float  # the server's CPU seconds (utime + stime of its processes), big upload
    small_cpu: float  # the same, for the small uploads together
    client_cpu: float  # this process's CPU seconds over both phases


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_cell(contender: Contender, args: argparse.Namespace, options: ServerOptions) -> Cell:
    port = free_port()
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    big_size, small_size = args.big_mb * MB, args.small_kb * 1000
    big, small = multipart(big_size), multipart(small_size)
    env = None
    if contender.name in BASELINE:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([args.baseline, os.getcwd()])}
    with log.open("ab") as log_file:
        proc = subprocess.Popen(
            pinned(contender.argv(port, options), None if args.no_pin else 0),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answering(proc, port, 30, log)
        rss = PeakRSS(proc.pid)  # idle: the server as it started
        big_request, small_request = request_bytes(port, big), request_bytes(port, small)
        warm_up(port, small_request, small_size, args.warmup)
        pids = rss.pids
        settle(pids)
        with rss:
            client_before, cpu_before = client_cpu_seconds(), server_cpu_seconds(pids)
            big_s = asyncio.run(phase(port, big_request, big_size, 1))
            settle(pids)  # the big upload's temporary file closed: charged to it
            cpu_between = server_cpu_seconds(pids)
            small_s = sum(
                asyncio.run(phase(port, small_request, small_size, args.small_count))
                for _ in range(args.small_waves)
            )
            settle(pids)
            cpu_after, client_after = server_cpu_seconds(pids), client_cpu_seconds()
        return Cell(
            big_s,
            small_s,
            rss.idle,
            rss.peak,
            cpu_between - cpu_before,
            cpu_after - cpu_between,
            client_after - client_before,
        )
    finally:
        stop(proc)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the contenders to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--small-kb", type=int, default=100)
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument(
        "--small-waves",
        type=int,
        default=1,
        help="the small phase this many times over, one wave after the other (more "
        "uploads, a steadier figure per upload)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="small uploads at once before measuring (default: --small-count)",
    )
    parser.add_argument(
        "--contenders",
        default=None,
        help="default: ambi-rsgi, ambi-asgi, fastapi (and base-rsgi, base-asgi with --baseline)",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        help="the src folder of another ambi tree, served as base-rsgi and base-asgi",
    )
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--log", default="benchmarks/out/logs/uploads.log")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = args.small_count
    if args.contenders is None:
        names = [c for c in CONTENDERS if c not in BASELINE or args.baseline is not None]
    else:
        names = [n for n in args.contenders.split(",") if n]
    unknown = set(names) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {sorted(unknown)}")
    if args.baseline is None and set(names) & set(BASELINE):
        parser.error("base-rsgi and base-asgi need --baseline")
    if args.baseline is not None:
        args.baseline = os.path.abspath(args.baseline)
    return args, names


def report(args: argparse.Namespace, names: list[str], cells: dict[str, list[Cell]]) -> None:
    """The table of medians, and each contender's ratio to FastAPI."""
    small_count = args.small_count * args.small_waves
    big_mb, small_mb = args.big_mb, args.small_kb * small_count / 1000
    header = (
        "contender",
        "big MB/s",
        "small MB/s",
        "overall MB/s",
        "idle RSS",
        "peak RSS",
        "server CPU big",
        "server CPU per small",
        "client CPU",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    overall: dict[str, float] = {}
    for name in names:
        runs = cells[name]
        big = statistics.median(big_mb / c.big_s for c in runs)
        small = statistics.median(small_mb / c.small_s for c in runs)
        total = statistics.median((big_mb + small_mb) / (c.big_s + c.small_s) for c in runs)
        overall[name] = total
        idle = statistics.median(c.idle_kib for c in runs) / 1024
        peak = statistics.median(c.peak_kib for c in runs) / 1024
        big_cpu = statistics.median(c.big_cpu for c in runs) * 1000
        small_cpu = statistics.median(c.small_cpu for c in runs) / small_count * 1e6
        client_cpu = statistics.median(c.client_cpu for c in runs)
        print(
            f"| {name} | {big:,.0f} | {small:,.1f} | {total:,.1f} | "
            f"{idle:.0f} MiB | {peak:.0f} MiB | {big_cpu:,.1f} ms | {small_cpu:,.0f} µs | "
            f"{client_cpu:.2f} s |"
        )
    if "fastapi" in overall:
        for name in names:
            if name != "fastapi":
                print(f"{name}: {overall[name] / overall['fastapi']:.2f}x FastAPI overall")


def main(argv: list[str] | None = None) -> int:
    args, names = parse_args(argv)
    if not args.no_pin:  # the client on core 1
        os.sched_setaffinity(0, {1})
    options = ServerOptions.detect()
    cells: dict[str, list[Cell]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            cells[name].append(run_cell(CONTENDERS[name], args, options))
            print(f"round {round_ + 1}: {name} done", file=sys.stderr)
    waves = f" ({args.small_waves} waves)" if args.small_waves > 1 else ""
    print(
        f"uploads: 1 x {args.big_mb} MB, then {args.small_count} x {args.small_kb} KB "
        f"at once{waves}"
    )
    print(
        f"granian {package_version('granian')}, uvicorn {package_version('uvicorn')}, "
        f"fastapi {package_version('fastapi')}, loop {options.loop}, http {options.http}"
    )
    report(args, names, cells)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
