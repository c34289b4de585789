"""The machine side of the cluster test: finding `ip`, nginx and redis-server, free ports,
network namespaces, and removing what a killed run left behind (namespaces, links and
processes named or marked after a process that is gone)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

RUNS = Path("/tmp/ambi-cluster")
MARK = "AMBI_CLUSTER_RUNDIR"
NAME = re.compile(r"^ambc(\d+)")


def tool(name: str) -> str | None:
    """Where the command `name` is: on PATH, or in an sbin directory PATH may lack."""
    found = shutil.which(name)
    if found:
        return found
    for directory in ("/usr/sbin", "/sbin", "/usr/local/sbin"):
        if os.access(f"{directory}/{name}", os.X_OK):
            return f"{directory}/{name}"
    return None


IP = tool("ip") or "ip"
NGINX = tool("nginx") or "nginx"
REDIS_SERVER = tool("redis-server") or "redis-server"


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run([IP, *args], check=False, capture_output=True, text=True, timeout=10)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def can_make_namespaces() -> bool:
    return os.geteuid() == 0 and tool("ip") is not None and sys.platform == "linux"


def marked_processes(run_dir: Path) -> list[int]:
    """Pids of the processes started for `run_dir` (their environment says so)."""
    needle = f"{MARK}={run_dir}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes() + b"\0":
                    found.append(int(entry.name))
    return found


def clean_leftovers() -> list[str]:
    """Remove what runs whose process is gone left behind; what was removed."""
    removed: list[str] = []
    if RUNS.is_dir():
        for run in RUNS.iterdir():
            if run.name.isdigit() and not alive(int(run.name)):
                for pid in marked_processes(run):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        removed.append(f"process {pid}")
                shutil.rmtree(run, ignore_errors=True)
    if not can_make_namespaces():
        return removed
    for line in ip("netns", "list", check=False).splitlines():
        name = line.split()[0] if line.split() else ""
        match = NAME.match(name)
        if match and not alive(int(match.group(1))):
            for pid in ip("netns", "pids", name, check=False).split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            ip("netns", "del", name, check=False)
            removed.append(f"netns {name}")
    for line in ip("-o", "link", "show", check=False).splitlines():
        link = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
        match = NAME.match(link)
        if match and not alive(int(match.group(1))):
            ip("link", "del", link, check=False)
            removed.append(f"link {link}")
    return removed
