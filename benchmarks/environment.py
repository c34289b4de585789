"""What a report says about where its numbers come from: machine, versions, load, revision."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.contenders import package_version

VERSIONED = (
    "granian",
    "uvicorn",
    "fastapi",
    "starlette",
    "pydantic",
    "orjson",
    "uvloop",
    "httptools",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    return f"{os.cpu_count()} cores ({_cpu_model()}), {platform.platform()}"


def loadavg() -> str:
    """The 1-minute load average; a run's own server and wrk account for up to 2 of it."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def _wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "wrk not installed"
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split(" [")[0].strip()


def versions() -> str:
    python = f"Python {platform.python_version()}"
    return ", ".join([python, *(f"{n} {package_version(n)}" for n in VERSIONED), _wrk_version()])


def ambi_revision(repo: Path) -> str:
    """The commit `src/` comes from, and whether it had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "src")
    return commit + (" + uncommitted changes in src/" if dirty else "")


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds used so far by the whole machine and by this process and its children."""

    wall_s: float
    machine_s: float
    ours_s: float

    @classmethod
    def now(cls) -> CpuSample:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = fields
        # Interrupt time is left out: most of it is the loopback traffic of our own cells,
        # which the kernel charges to no process. Steal is the hypervisor's other guests.
        busy_ticks = user + nice + system + steal
        self_usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for descendants
        ours = self_usage.ru_utime + self_usage.ru_stime + children.ru_utime + children.ru_stime
        return cls(time.monotonic(), busy_ticks / os.sysconf("SC_CLK_TCK"), ours)


def foreign_load(before: CpuSample, after: CpuSample) -> float:
    """Cores' worth of CPU that processes other than the runner's took between two samples.

    An estimate (/proc/stat counts clock ticks), and right only once the runner has waited
    for its servers and wrk, so that their CPU time counts as its children's: take `after`
    when a cell's server has been stopped.
    """
    foreign = (after.machine_s - before.machine_s) - (after.ours_s - before.ours_s)
    return max(0.0, foreign / max(after.wall_s - before.wall_s, 1e-9))


def wait_for_quiet(max_load: float, max_wait_s: float, sample_s: float = 1.0) -> float:
    """Wait (up to `max_wait_s`) until other processes take at most `max_load` cores.

    Returns the other load of the last sample: above `max_load` if the wait timed out.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        before = CpuSample.now()
        time.sleep(sample_s)
        load = foreign_load(before, CpuSample.now())
        if load <= max_load or time.monotonic() >= deadline:
            return load
