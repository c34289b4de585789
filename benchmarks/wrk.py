"""Run wrk against one endpoint and read its result from `wrk_report.lua`'s JSON line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.endpoints import Endpoint
from benchmarks.servers import pinned

SCRIPT = Path(__file__).with_name("wrk_report.lua")
MARKER = "WRK_JSON "
WRK_TIMEOUT_S = 5  # a request slower than this counts as a timeout error
EXTRA_WALL_S = 30  # how much longer than --duration wrk may take before it is killed


class WrkError(Exception):
    """wrk failed or printed no result."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One wrk run."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    url: str, endpoint: Endpoint, *, duration_s: int, connections: int, cpu: int | None
) -> WrkResult:
    wrk = wrk_path()
    if wrk is None:
        raise WrkError("wrk not found: apt-get install -y wrk")
    argv = [
        *(wrk, "--threads", "1", "--connections", str(connections)),
        *("--duration", f"{duration_s}s", "--timeout", f"{WRK_TIMEOUT_S}s"),
        *("--script", str(SCRIPT), url + endpoint.target),
    ]
    env = {**os.environ, "WRK_METHOD": endpoint.method}
    if endpoint.body is not None:
        env["WRK_BODY"] = endpoint.body.decode()
    proc = subprocess.run(
        pinned(argv, cpu),
        capture_output=True,
        text=True,
        env=env,
        timeout=duration_s + EXTRA_WALL_S,
        check=False,
    )
    if proc.returncode != 0:
        raise WrkError(f"wrk exited with {proc.returncode}: {proc.stderr.strip()}")
    return parse_report(proc.stdout)


def parse_report(stdout: str) -> WrkResult:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            socket_errors = sum(
                data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
            )
            return WrkResult(
                requests=data["requests"],
                duration_s=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1e3,
                p99_ms=data["p99_us"] / 1e3,
                non_2xx=data["non_2xx"],
                socket_errors=socket_errors,
            )
    raise WrkError(f"no {MARKER.strip()} line in wrk's output:\n{stdout.strip()}")
