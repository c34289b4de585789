"""The peer benchmark runner. `python -m benchmarks.run --help`; see benchmarks/README.md.

For each round, for each endpoint, for each contender (the order rotated every round): start
the contender's server pinned to one core, check one answer, warm up, run wrk pinned to the
other core, stop the server. Then report the medians across rounds as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from benchmarks.contenders import BARE_RSGI, CONTENDERS, Contender, ServerOptions
from benchmarks.endpoints import ENDPOINTS, Endpoint, check_answer
from benchmarks.environment import (
    CpuSample,
    ambi_revision,
    foreign_load,
    loadavg,
    machine,
    versions,
    wait_for_quiet,
)
from benchmarks.report import NOISY_LOAD, Measurement, RunInfo, error_summary, render
from benchmarks.servers import HOST, ServerError, free_port, log_tail, running
from benchmarks.wrk import WrkError, WrkResult, run_wrk, wrk_path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "benchmarks" / "out"
LOG_DIR = OUT_DIR / "logs"
SMOKE_FRAMEWORKS = ("ambi", BARE_RSGI)


@dataclass(frozen=True, slots=True)
class Settings:
    rounds: int
    duration_s: int
    warmup_s: int
    connections: int
    retries: int
    """Extra attempts for a cell during which other processes took over `max_other_load`."""


FULL = Settings(rounds=3, duration_s=10, warmup_s=2, connections=64, retries=2)
SMOKE = Settings(rounds=1, duration_s=1, warmup_s=0, connections=8, retries=0)
MAX_OTHER_LOAD = NOISY_LOAD


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a run needs, resolved from the command line once."""

    contenders: tuple[Contender, ...]
    endpoints: tuple[Endpoint, ...]
    settings: Settings
    server_cpu: int | None
    wrk_cpu: int | None
    ready_timeout_s: float
    max_other_load: float
    quiet_wait_s: float
    options: ServerOptions
    out: Path
    env: dict[str, str]
    """The servers' environment (PYTHONPATH with the repo and the run's copy of `src/`)."""


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Serve the same endpoints from ambi and its peers; measure them with wrk.",
    )
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {FULL.rounds})")
    parser.add_argument(
        "--duration", type=int, help=f"seconds of load per cell (default {FULL.duration_s})"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"seconds of unmeasured load first (default {FULL.warmup_s})"
    )
    parser.add_argument(
        "--connections", type=int, help=f"wrk connections (default {FULL.connections})"
    )
    parser.add_argument(
        "--frameworks",
        type=_names,
        help=f"comma-separated contenders (default: all but the A/B variants ambi-pool, "
        f"ambi-nowatch): {','.join(CONTENDERS)}",
    )
    parser.add_argument(
        "--endpoints",
        type=_names,
        help=f"comma-separated endpoints (default: all): {','.join(ENDPOINTS)}",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds-long check that the runner works: 1 round, 1 s per cell, 8 connections, "
        f"contenders {','.join(SMOKE_FRAMEWORKS)} unless --frameworks says otherwise",
    )
    parser.add_argument(
        "--out", type=Path, help="Markdown report (default benchmarks/out/latest.md or smoke.md)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    parser.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds for a server to answer"
    )
    parser.add_argument(
        "--max-other-load",
        type=float,
        default=MAX_OTHER_LOAD,
        help="cores' worth of CPU other processes may take during a cell before the runner "
        f"waits for quiet and measures the cell again (default {MAX_OTHER_LOAD})",
    )
    parser.add_argument(
        "--retries",
        type=int,
        help=f"extra attempts for a disturbed cell (default {FULL.retries}, smoke 0)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="at most this many seconds of waiting for quiet before a cell (default 120)",
    )
    args = parser.parse_args(argv)
    for option, known in (("frameworks", CONTENDERS), ("endpoints", ENDPOINTS)):
        unknown = sorted(set(getattr(args, option) or ()) - set(known))
        if unknown:
            parser.error(f"unknown {option}: {', '.join(unknown)}; choose from {', '.join(known)}")
    return args


def _cpus(no_pin: bool) -> tuple[int | None, int | None]:
    """(server core, wrk core): the first two cores this process may use, if it has two."""
    cores = sorted(os.sched_getaffinity(0))
    if no_pin or len(cores) < 2:
        return None, None
    return cores[0], cores[1]


def make_plan(args: argparse.Namespace, src: Path) -> Plan:
    base = SMOKE if args.smoke else FULL
    settings = Settings(
        rounds=args.rounds if args.rounds is not None else base.rounds,
        duration_s=args.duration if args.duration is not None else base.duration_s,
        warmup_s=args.warmup if args.warmup is not None else base.warmup_s,
        connections=args.connections if args.connections is not None else base.connections,
        retries=args.retries if args.retries is not None else base.retries,
    )
    defaults = tuple(name for name, c in CONTENDERS.items() if c.default)
    names = args.frameworks or (SMOKE_FRAMEWORKS if args.smoke else defaults)
    endpoints = args.endpoints or tuple(ENDPOINTS)
    server_cpu, wrk_cpu = _cpus(args.no_pin)
    default_out = OUT_DIR / ("smoke.md" if args.smoke else "latest.md")
    return Plan(
        contenders=tuple(c for name, c in CONTENDERS.items() if name in names),
        endpoints=tuple(e for name, e in ENDPOINTS.items() if name in endpoints),
        settings=settings,
        server_cpu=server_cpu,
        wrk_cpu=wrk_cpu,
        ready_timeout_s=args.ready_timeout,
        max_other_load=args.max_other_load,
        quiet_wait_s=0.0 if args.smoke else args.quiet_wait,
        options=ServerOptions.detect(),
        out=args.out or default_out,
        env=server_env(src),
    )


def snapshot_src(into: Path) -> Path:
    """A copy of `src/`, so that every cell of a run serves the ambi it started with."""
    copy = into / "src"
    shutil.copytree(REPO / "src", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def server_env(src: Path) -> dict[str, str]:
    """The runner's environment, with the repo (for `benchmarks.apps`) and `src` importable."""
    path = [str(REPO), str(src), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def _load(plan: Plan, port: int, endpoint: Endpoint) -> WrkResult:
    """Warm up (result dropped), then measure."""
    url, s = f"http://{HOST}:{port}", plan.settings
    if s.warmup_s > 0:
        run_wrk(url, endpoint, duration_s=s.warmup_s, connections=s.connections, cpu=plan.wrk_cpu)
    return run_wrk(
        url, endpoint, duration_s=s.duration_s, connections=s.connections, cpu=plan.wrk_cpu
    )


def _tracebacks_since(log: Path, offset: int) -> int:
    if not log.exists():
        return 0
    with log.open("rb") as f:
        f.seek(offset)
        return f.read().count(b"Traceback (most recent call last)")


def measure_cell(plan: Plan, contender: Contender, endpoint: Endpoint, rnd: int) -> Measurement:
    """Start the server, check one answer, put it under load, stop it.

    Also counts the tracebacks the server logged and how much CPU other processes took.
    """
    log = LOG_DIR / f"{contender.name}.log"
    offset = log.stat().st_size if log.exists() else 0
    before = CpuSample.now()
    measurement = _measure(plan, contender, endpoint, rnd, log)
    return replace(
        measurement,
        tracebacks=_tracebacks_since(log, offset),
        foreign_load=foreign_load(before, CpuSample.now()),
    )


def _measure(
    plan: Plan, contender: Contender, endpoint: Endpoint, rnd: int, log: Path
) -> Measurement:
    cell = (contender.name, endpoint.name, rnd)
    port = free_port()
    try:
        with running(
            contender.argv(port, plan.options),
            port=port,
            cpu=plan.server_cpu,
            env=plan.env,
            log=log,
            ready_timeout=plan.ready_timeout_s,
        ):
            problem = check_answer(HOST, port, endpoint)
            if problem is not None:
                return Measurement(*cell, error=f"wrong answer: {problem}")
            result = _load(plan, port, endpoint)
    except ServerError as exc:
        return Measurement(*cell, error=f"failed to start: {exc}", started=False)
    except (WrkError, subprocess.TimeoutExpired) as exc:
        return Measurement(*cell, error=f"wrk: {exc}\n{log_tail(log)}")
    if result.non_2xx:
        return Measurement(*cell, error=f"{result.non_2xx} non-2xx responses under load")
    return Measurement(*cell, result=result)


def measure_quietly(plan: Plan, contender: Contender, endpoint: Endpoint, rnd: int) -> Measurement:
    """`measure_cell`, again (up to `retries` times) while other processes disturb it.

    Before each attempt, wait for the machine to calm down; keep the least disturbed attempt.
    """
    attempts: list[Measurement] = []
    while True:
        if plan.quiet_wait_s > 0:
            _wait_for_quiet(plan)
        m = measure_cell(plan, contender, endpoint, rnd)
        attempts.append(m)
        calm = m.error is not None or m.foreign_load <= plan.max_other_load
        if calm or len(attempts) > plan.settings.retries:
            break
        print(f"  other processes took {m.foreign_load:.2f} cores; again", file=sys.stderr)
    best = min(attempts, key=lambda m: m.foreign_load)
    return replace(best, attempts=len(attempts))


def _wait_for_quiet(plan: Plan) -> None:
    load = wait_for_quiet(plan.max_other_load, 0.0)
    if load > plan.max_other_load:
        print(f"  waiting for other processes to calm down ({load:.2f} cores)", file=sys.stderr)
        load = wait_for_quiet(plan.max_other_load, plan.quiet_wait_s)
        if load > plan.max_other_load:
            print(f"  still {load:.2f} cores after {plan.quiet_wait_s:.0f} s", file=sys.stderr)


def _progress(m: Measurement, rounds: int) -> None:
    where = f"[round {m.round}/{rounds}] {m.endpoint:<10} {m.contender:<18}"
    if m.result is not None and m.error is None:
        r = m.result
        print(
            f"{where} {r.requests_per_s:>10,.0f} req/s  p99 {r.p99_ms:7.2f} ms"
            f"  (other load {m.foreign_load:.2f} cores)",
            file=sys.stderr,
        )
    else:
        print(f"{where} n/a: {error_summary(m.error or '')}", file=sys.stderr)


def run_plan(plan: Plan) -> list[Measurement]:
    measurements: list[Measurement] = []
    broken: dict[str, Measurement] = {}  # contenders that failed to start are not retried
    for rnd in range(1, plan.settings.rounds + 1):
        shift = (rnd - 1) % len(plan.contenders)
        order = plan.contenders[shift:] + plan.contenders[:shift]
        for endpoint in plan.endpoints:
            for contender in order:
                if contender.name in broken:
                    failed = broken[contender.name]
                    m = Measurement(
                        contender.name, endpoint.name, rnd, error=failed.error, started=False
                    )
                else:
                    m = measure_quietly(plan, contender, endpoint, rnd)
                    if not m.started:
                        broken[contender.name] = m
                measurements.append(m)
                _progress(m, plan.settings.rounds)
    return measurements


def run_info(plan: Plan, argv: Sequence[str]) -> RunInfo:
    s = plan.settings
    pinning = (
        f"server on core {plan.server_cpu}, wrk on core {plan.wrk_cpu} (taskset)"
        if plan.server_cpu is not None
        else "not pinned"
    )
    return RunInfo(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ambi=ambi_revision(REPO),
        load=loadavg(),
        command=shlex.join([".venv/bin/python", "-m", "benchmarks.run", *argv]),
        machine=f"{machine()}; {pinning}",
        settings=(
            f"{s.rounds} round(s), each cell {s.warmup_s} s warm-up + {s.duration_s} s measured; "
            f"wrk 1 thread, {s.connections} connections, keep-alive; a cell is measured again "
            f"(up to {s.retries} times) if other processes take over {plan.max_other_load} "
            "cores meanwhile; one worker per server, "
            f"event loop {plan.options.loop}, uvicorn HTTP parser {plan.options.http}"
        ),
        versions=versions(),
    )


def exit_status(measurements: Sequence[Measurement]) -> int:
    """1 if a contender failed to start or got a required endpoint wrong, else 0."""
    required = {name for name, e in ENDPOINTS.items() if e.required}
    for m in measurements:
        if not m.started or (m.error is not None and m.endpoint in required):
            return 1
    return 0


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwinding runs every `finally`, so the servers are stopped; a SIGKILL would orphan them.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if wrk_path() is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ambi-bench-") as tmp:
        plan = make_plan(args, snapshot_src(Path(tmp)))
        info = run_info(plan, argv)
        for contender in plan.contenders:
            (LOG_DIR / f"{contender.name}.log").unlink(missing_ok=True)
        try:
            measurements = run_plan(plan)
        except KeyboardInterrupt:
            print("interrupted; servers stopped", file=sys.stderr)
            return 130
    info = replace(info, load=f"{info.load} at the start, {loadavg()} at the end")
    report = "# ambi peer benchmarks\n\n" + render(
        info, measurements, plan.contenders, plan.endpoints, plan.options
    )
    print(report)
    plan.out.parent.mkdir(parents=True, exist_ok=True)
    plan.out.write_text(report + "\n")
    print(f"report written to {plan.out}", file=sys.stderr)
    return exit_status(measurements)


if __name__ == "__main__":
    sys.exit(main())
