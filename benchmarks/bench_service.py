"""The reference service (examples/service) against its FastAPI twin
(benchmarks/service_fastapi), on the real PostgreSQL and Redis of this machine.

A database of its own is created and seeded (16 users, a project of 30 tasks each, their
tokens), then, in interleaved rounds with the order rotating:

- the mixed load: each contender with one worker, then two workers, under wrk with 64
  connections cycling through a mix per user of 20 requests (8 cached listings, 9 other
  reads on the def/psycopg and async/asyncpg routes, 2 writes, 1 login): req/s, p50/p99,
  errors, database connections of the service (pg_stat_activity: the most in use during
  the load, and what is left 1 s after it: all must be idle), the server's RSS (all its
  processes) before and after, and its CPU time and context switches per request during
  the load (steadier than req/s on a busy machine);
- the bridge: `GET /stats` (a def route reaching the asyncpg pool through smartasync, on
  ambi; through `anyio.from_thread.run` on the twin) against `GET /stats/async` (the same
  query from an async def route), alone, 64 connections, one worker.

ambi runs as `python -m examples.service serve` (`app.listen()`'s defaults: Granian,
RSGI), the twin as FastAPI users deploy it: `uvicorn --workers N --loop uvloop --http
httptools`. Nothing is pinned: PostgreSQL and Redis share the two cores. Run:

    .venv/bin/python -m benchmarks.bench_service [--rounds 3] [--duration 10]

`--baseline DIR` adds the contender `ambi-baseline`, the service on the ambi package in DIR,
for a before/after comparison in the same run (`git archive <commit> src | tar -x -C
/tmp/before`, then `--baseline /tmp/before/src`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psycopg

from . import _service_setup as setup
from .environment import loadavg, machine, versions
from .servers import HOST, free_port, stop, wait_until_answering
from .wrk import SCRIPT, WrkResult, parse_report, wrk_path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("out")


#: `--baseline DIR`: the contender running the service on the ambi package in DIR (say
#: `git archive <commit> src | tar -x -C /tmp/before` and DIR=/tmp/before/src), for a
#: before/after comparison in the same run.
BASELINE = "ambi-baseline"


def python_path(*first: str | Path) -> str:
    """The servers' PYTHONPATH: `first`, then the caller's own (so that a directory with a
    `sitecustomize.py` can set a process-wide knob for an experiment, as RESULTS.md's
    switch-interval runs did)."""
    given = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([*map(str, first), *([given] if given else [])])


def argv_of(contender: str, port: int, workers: int) -> list[str]:
    if contender in ("ambi", BASELINE):
        return [
            *(sys.executable, "-m", "examples.service", "serve"),
            *("--port", str(port), "--workers", str(workers)),
        ]
    return [
        *(sys.executable, "-m", "uvicorn", "benchmarks.service_fastapi.app:app"),
        *("--host", HOST, "--port", str(port), "--workers", str(workers)),
        *("--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"),
    ]


def memory_mb(pgid: int) -> tuple[float, float]:
    """RSS and PSS (shared pages divided among their sharers: forked workers share much
    of the parent's memory, which RSS counts in each) of every process in the group
    `pgid` (the server and its workers), in MiB."""
    rss = pss = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: the process group
                continue
            rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss pages
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            continue
    return rss / 2**20, pss / 2**20


def cpu_and_switches(pgid: int) -> tuple[float, int]:
    """CPU seconds (user + system) used so far by every process of the group `pgid`, and
    the context switches (voluntary and not) of all their threads."""
    ticks = switches = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            ticks += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
            for task in (entry / "task").iterdir():
                for line in (task / "status").read_text().splitlines():
                    if "ctxt_switches:" in line:
                        switches += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK"), switches


class Connections:
    """Samples the service database's connections (pg_stat_activity) while a run lasts."""

    def __init__(self, dsn: str, name: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.name = name
        self.most_total = self.most_active = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1",
            (self.name,),
        ).fetchall()
        return {state: count for state, count in rows}

    def settle(self, timeout: float = 20.0) -> float:
        """Seconds until no connection is busy (none active, none idle in a transaction):
        the pools hold only idle connections again."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            busy = {k: v for k, v in self.sample().items() if k != "idle"}
            if not busy:
                break
            time.sleep(0.1)
        return time.monotonic() - start

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            states = self.sample()
            self.most_total = max(self.most_total, sum(states.values()))
            self.most_active = max(self.most_active, states.get("active", 0))

    @contextmanager
    def watching(self) -> Iterator[None]:
        self.most_total = self.most_active = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()


def wrk(port: int, script: Path, duration: int, connections: int) -> WrkResult:
    argv = [
        *(wrk_path() or "wrk", "--threads", "2", "--connections", str(connections)),
        *("--duration", f"{duration}s", "--timeout", "5s", "--script", str(script)),
        f"http://{HOST}:{port}/",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed: {proc.stderr}")
    return parse_report(proc.stdout)


@dataclass
class Run:
    contender: str
    workers: int
    round: int
    load: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    db_conns_most: int
    db_active_most: int
    settle_s: float
    db_after: dict[str, int]
    db_after_stop: int
    rss_before_mb: float
    rss_after_mb: float
    pss_before_mb: float
    pss_after_mb: float
    #: the server's CPU time and its threads' context switches per request, during the load
    cpu_us: float = 0.0
    switches: float = 0.0


@contextmanager
def serving(contender: str, workers: int, env: dict[str, str], log: Path) -> Iterator[tuple]:
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv_of(contender, port, workers),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answering(proc, port, 60, log)
        deadline = time.monotonic() + 30
        while httpx.get(f"http://{HOST}:{port}/health", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit(f"{contender}: /health does not answer 200")
            time.sleep(0.1)
        yield port, proc
    finally:
        stop(proc)


@dataclass
class Bench:
    args: argparse.Namespace
    env: dict[str, str]
    watch: Connections
    runs: list[Run]
    sample: list[setup.Request]


def check(port: int, requests: list[setup.Request]) -> None:
    """Every request of one user's mix answers 2xx (else the run would measure errors)."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10) as client:
        for method, path, headers, body, _ in requests:
            response = client.request(method, path, headers=headers, content=body)
            if not 200 <= response.status_code < 300:
                raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:200]}")


def measure(
    bench: Bench, contender: str, workers: int, round_no: int, *, load: str, script: Path
) -> None:
    """One run; appended to `bench.runs`."""
    args, env, watch = bench.args, bench.env, bench.watch
    log = OUT / "logs" / f"service-{contender}.log"
    if contender == BASELINE:
        env = {**env, "PYTHONPATH": python_path(args.baseline, ROOT)}
    with serving(contender, workers, env, log) as (port, proc):
        check(port, bench.sample)
        if args.warmup:
            wrk(port, script, args.warmup, args.connections)
        time.sleep(0.5)
        rss_before = memory_mb(proc.pid)
        cpu_before = cpu_and_switches(proc.pid)
        with watch.watching():
            result = wrk(port, script, args.duration, args.connections)
        cpu_after = cpu_and_switches(proc.pid)
        settle = watch.settle()
        after = watch.sample()
        rss_after = memory_mb(proc.pid)
    time.sleep(0.5)
    run = Run(
        contender=contender,
        workers=workers,
        round=round_no,
        load=load,
        rps=result.requests_per_s,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        errors=result.non_2xx + result.socket_errors,
        db_conns_most=watch.most_total,
        db_active_most=watch.most_active,
        settle_s=settle,
        db_after=after,
        db_after_stop=sum(watch.sample().values()),
        rss_before_mb=rss_before[0],
        rss_after_mb=rss_after[0],
        pss_before_mb=rss_before[1],
        pss_after_mb=rss_after[1],
        cpu_us=(cpu_after[0] - cpu_before[0]) / max(result.requests, 1) * 1e6,
        switches=(cpu_after[1] - cpu_before[1]) / max(result.requests, 1),
    )
    print(
        f"round {round_no + 1} {load} {contender} x{workers}: {run.rps:,.0f} req/s, "
        f"p50 {run.p50_ms:.1f} p99 {run.p99_ms:.1f} ms, {run.errors} errors, "
        f"db {run.db_conns_most} (active {run.db_active_most}) -> {run.db_after} "
        f"after {settle:.1f} s, "
        f"rss {run.rss_before_mb:.0f} -> {run.rss_after_mb:.0f} MB "
        f"(pss {run.pss_before_mb:.0f} -> {run.pss_after_mb:.0f}), "
        f"{run.cpu_us:.0f} us CPU and {run.switches:.1f} context switches per request",
        file=sys.stderr,
        flush=True,
    )
    bench.runs.append(run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--loads", default="mixed,bridge", help="mixed, bridge or both")
    parser.add_argument("--contenders", default="ambi,fastapi")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help=f"also run the contender {BASELINE}: ambi imported from DIR (a src directory)",
    )
    args = parser.parse_args()
    if wrk_path() is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    settings = setup.bench_settings()
    users = setup.create(settings)
    env = {**os.environ, **setup.env_of(settings), "PYTHONPATH": python_path(ROOT)}
    watch = Connections(setup.ADMIN_DSN, setup.database_name(settings))
    contenders = args.contenders.split(",")
    if args.baseline:
        contenders.append(BASELINE)
    loads = args.loads.split(",")
    runs: list[Run] = []
    bench = Bench(args, env, watch, runs, setup.user_mix(users[-1]))
    load_before = loadavg()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = SCRIPT.read_text()
            mixed = Path(tmp) / "mixed.lua"
            mixed.write_text(setup.lua([r for u in users for r in setup.user_mix(u)], report))
            bridge = {}
            for path in ("/stats", "/stats/async"):
                bridge[path] = Path(tmp) / f"bridge{path.replace('/', '-')}.lua"
                auth = {"Authorization": f"Bearer {users[0].token}"}
                bridge[path].write_text(setup.lua([("GET", path, auth, None, "read")], report))
            for round_no in range(args.rounds):
                shift = round_no % 2
                order = contenders[shift:] + contenders[:shift]
                for workers in (int(w) for w in args.workers.split(",") if "mixed" in loads):
                    for contender in order:
                        measure(bench, contender, workers, round_no, load="mixed", script=mixed)
                if "bridge" not in loads:
                    continue
                for contender in order:
                    paths = ["/stats", "/stats/async"][:: 1 if shift else -1]
                    for path in paths:
                        measure(bench, contender, 1, round_no, load=path, script=bridge[path])
    finally:
        watch.conn.close()
        setup.drop(settings)
    OUT.mkdir(exist_ok=True)
    (OUT / "service.json").write_text(json.dumps([asdict(r) for r in runs], indent=1))
    summarize(runs, args, load_before)
    return 0


def _median(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def summarize(runs: list[Run], args: argparse.Namespace, load_before: str) -> None:
    print(
        f"- machine: {machine()}; load average {load_before} at the start, {loadavg()} at the end"
    )
    print(f"- {versions()}")
    print(
        f"- {args.rounds} interleaved rounds, {args.duration} s each (+{args.warmup} s warm-up),"
        f" {args.connections} connections, wrk 2 threads, nothing pinned"
    )
    print()
    print(
        "| load | contender | workers | req/s (median) | p50 ms | p99 ms | errors |"
        " db conns most (active) | all idle after (s) | RSS MiB before -> after |"
        " PSS MiB before -> after | server CPU µs / req | context switches / req |"
        " req/s per round |"
    )
    print("|---|---|--:|--:|--:|--:|--:|--:|---|---|---|--:|--:|---|")
    groups: dict[tuple[str, str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.load, run.contender, run.workers), []).append(run)
    for (load, contender, workers), rs in groups.items():
        after = ", ".join(
            f"{r.settle_s:.1f}" + ("" if set(r.db_after) <= {"idle"} else f" {r.db_after}")
            for r in rs
        )
        print(
            f"| {load} | {contender} | {workers} | {_median(rs, 'rps'):,.0f} | "
            f"{_median(rs, 'p50_ms'):.1f} | {_median(rs, 'p99_ms'):.1f} | "
            f"{sum(r.errors for r in rs)} | {max(r.db_conns_most for r in rs)} "
            f"({max(r.db_active_most for r in rs)}) | {after} | "
            f"{_median(rs, 'rss_before_mb'):.0f} -> {_median(rs, 'rss_after_mb'):.0f} | "
            f"{_median(rs, 'pss_before_mb'):.0f} -> {_median(rs, 'pss_after_mb'):.0f} | "
            f"{_median(rs, 'cpu_us'):.0f} | {_median(rs, 'switches'):.1f} | "
            f"{', '.join(f'{r.rps:,.0f}' for r in rs)} |"
        )
    print()
    for workers in sorted({r.workers for r in runs if r.load == "mixed"}):
        ratios, p99s = [], []
        for round_no in sorted({r.round for r in runs}):
            pair = {
                r.contender: r
                for r in runs
                if (r.load, r.workers, r.round) == ("mixed", workers, round_no)
            }
            if "ambi" in pair and "fastapi" in pair:
                ratios.append(pair["ambi"].rps / pair["fastapi"].rps)
                p99s.append(pair["ambi"].p99_ms / pair["fastapi"].p99_ms)
        if ratios:
            print(
                f"- mixed, {workers} worker(s): ambi / FastAPI req/s per round "
                f"{', '.join(f'{x:.2f}x' for x in ratios)}"
                f" (median {statistics.median(ratios):.2f}x);"
                f" p99 ambi / FastAPI {', '.join(f'{x:.2f}' for x in p99s)}"
            )
    for contender in ("ambi", BASELINE, "fastapi"):
        ratios = []
        for round_no in sorted({r.round for r in runs}):
            pair = {
                r.load: r
                for r in runs
                if r.contender == contender and r.round == round_no and r.load.startswith("/stats")
            }
            if len(pair) == 2:
                ratios.append((pair["/stats"], pair["/stats/async"]))
        if ratios:
            p50 = [s.p50_ms / a.p50_ms for s, a in ratios]
            p99 = [s.p99_ms / a.p99_ms for s, a in ratios]
            rps = [s.rps / a.rps for s, a in ratios]
            cpu = [s.cpu_us / a.cpu_us if a.cpu_us else float("nan") for s, a in ratios]
            print(
                f"- {contender} def /stats vs async /stats/async per round: p50 "
                f"{', '.join(f'{x:.2f}x' for x in p50)}, p99 {', '.join(f'{x:.2f}x' for x in p99)},"
                f" req/s {', '.join(f'{x:.2f}x' for x in rps)},"
                f" server CPU per request {', '.join(f'{x:.2f}x' for x in cpu)}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
