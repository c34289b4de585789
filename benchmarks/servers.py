"""Server subprocesses: start pinned to a core, wait until they answer, always stop them.

Each server runs in its own session (process group), so stopping it also stops whatever
workers it forked: SIGTERM to the group, SIGKILL after a grace period, and a final SIGKILL
to the group in case a worker outlived its parent.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

HOST = "127.0.0.1"
STOP_GRACE_S = 5.0
LOG_TAIL_CHARS = 2000


class ServerError(Exception):
    """A server did not come up (exited, or did not answer in time)."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(argv: Sequence[str], cpu: int | None) -> list[str]:
    """`argv` run on one core through `taskset`, or as it is when `cpu` is None."""
    if cpu is None:
        return list(argv)
    taskset = shutil.which("taskset")
    if taskset is None:
        raise ServerError("taskset not found (util-linux); run with --no-pin")
    return [taskset, "-c", str(cpu), *argv]


def log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL_CHARS:].strip()
    except OSError:
        return ""


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
    except OSError:
        return False
    else:
        return True
    finally:
        conn.close()


def wait_until_answering(
    proc: subprocess.Popen[bytes], port: int, timeout: float, log: Path
) -> None:
    """Poll with an HTTP request (any status will do) until the server answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"exited with status {proc.returncode}:\n{log_tail(log)}")
        if _answers(port):
            return
        time.sleep(0.05)
    raise ServerError(f"did not answer on port {port} within {timeout:.0f} s:\n{log_tail(log)}")


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    if proc.poll() is None:
        _signal_group(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            proc.wait()
    _signal_group(pgid, signal.SIGKILL)  # workers that outlived the server process


@contextmanager
def running(
    argv: Sequence[str],
    *,
    port: int,
    cpu: int | None,
    env: Mapping[str, str],
    log: Path,
    ready_timeout: float,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server for the duration of the block; it answers on `port` when the block starts.
    Gives the server's process (the leader of its process group)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as log_file:
        log_file.write(f"\n$ {' '.join(argv)}\n".encode())
        log_file.flush()
        proc = subprocess.Popen(
            pinned(argv, cpu),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
    try:
        wait_until_answering(proc, port, ready_timeout, log)
        yield proc
    finally:
        stop(proc)


def group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of every live process in the process group `pgid` (a
    server and its workers: what it spent, which other processes' load disturbs far less
    than its requests per second)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
