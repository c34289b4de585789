"""`run="process"` on a real server: the pool is warm before the first request, and a
signal to the whole process group (Ctrl-C in a terminal, systemd's stop) shuts everything
down promptly, hooks included, leaving no process behind (issue 21)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from .conftest import StartApp

pytestmark = pytest.mark.server


def group_members(pgid: int) -> dict[int, str]:
    """The live (not zombie) processes of process group `pgid`: pid -> state."""
    members: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members[int(entry.name)] = state
    return members


def wait_until_empty(pgid: int, timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    left = group_members(pgid)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = group_members(pgid)
    return left


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_group_signal_after_a_process_route_leaves_nothing_behind(
    start_app: StartApp, sig: signal.Signals
) -> None:
    server = start_app("execution", ready_path="/ping")
    pgid = server.proc.pid  # started in a session (and group) of its own
    with httpx.Client(base_url=server.base_url, timeout=20.0) as client:
        warm = client.get("/stats").json()["process_pids"]
        assert len(warm) == 2, "the pool's two children start with the app"
        answer = client.get("/prime/process", params={"n": 10_000}).json()
        assert answer["count"] == 1229
        assert answer["pid"] in warm
        assert client.get("/prime/thread", params={"n": 100}).json()["pid"] not in warm
    members = group_members(pgid)
    assert set(warm) <= set(members), "the children are in the server's process group"

    started = time.monotonic()
    os.killpg(pgid, sig)  # to every process of the group, as a terminal or systemd does
    code = server.wait(timeout=20)
    took = time.monotonic() - started
    left = wait_until_empty(pgid, timeout=5.0)

    assert code == 0, server.describe()
    assert "refused to gracefully stop" not in server.stdout + server.stderr, server.describe()
    # promptly: well before Granian's kill (shutdown_timeout + 5 s), even on a busy machine
    assert took < 9.0, f"shutdown took {took:.1f} s\n{server.describe()}"
    assert server.marker.exists(), "the shutdown hooks did not run\n" + server.describe()
    assert left == {}, f"left behind: {left} of {members}\n{server.describe()}"
    assert "Traceback" not in server.stderr, server.describe()


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_children_exit_when_their_worker_is_killed(start_app: StartApp) -> None:
    """SIGKILL leaves the worker no chance to close its pool: its children notice that
    their parent is gone and exit by themselves (they ignore SIGINT and SIGTERM)."""
    server = start_app("execution", ready_path="/ping")
    with httpx.Client(base_url=server.base_url, timeout=20.0) as client:
        children = client.get("/stats").json()["process_pids"]
    assert len(children) == 2
    (worker,) = {parent_of(pid) for pid in children}
    assert worker != server.proc.pid
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    alive = [pid for pid in children if pid in group_members(server.proc.pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in children if pid in group_members(server.proc.pid)]
    assert alive == [], "orphaned pool children kept running"
