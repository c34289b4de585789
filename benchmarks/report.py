"""Measurements in, a Markdown report out: medians per contender x endpoint, and ratios."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benchmarks.contenders import BARE_RSGI, FASTAPI, Contender, ServerOptions
from benchmarks.endpoints import Endpoint
from benchmarks.wrk import WrkResult

NOISY_LOAD = 0.2  # cores' worth of CPU taken by other processes that makes a cell suspect
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Interrupt)\b")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One cell of one round: a wrk result, or why there is none."""

    contender: str
    endpoint: str
    round: int
    result: WrkResult | None = None
    error: str | None = None
    started: bool = True
    tracebacks: int = 0
    """Tracebacks the server logged during the cell: right answers, but something raised."""
    foreign_load: float = 0.0
    """Cores' worth of CPU other processes on the machine took during the cell."""
    attempts: int = 1
    """How often the cell was measured: it is measured again when other processes were busy."""


@dataclass(frozen=True, slots=True)
class Cell:
    """A contender x endpoint over all rounds: medians, the req/s spread, or an error."""

    requests_per_s: float
    p99_ms: float
    low: float
    high: float
    error: str | None = None

    @classmethod
    def of(cls, measurements: Sequence[Measurement]) -> Cell:
        for m in measurements:
            if m.error is not None or m.result is None:
                return cls(0.0, 0.0, 0.0, 0.0, error=m.error or "no result")
        results = [m.result for m in measurements if m.result is not None]
        rates = [r.requests_per_s for r in results]
        return cls(
            requests_per_s=statistics.median(rates),
            p99_ms=statistics.median(r.p99_ms for r in results),
            low=min(rates),
            high=max(rates),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """ambi on `endpoint` makes at least `ratio` x the req/s of `baseline` (same run)."""

    endpoint: str
    baseline: str
    ratio: float


# The targets, checked for each ambi contender in the run (ambi, ambi-asgi).
TARGETS = (
    Target("json", FASTAPI, 3.0),
    Target("json", BARE_RSGI, 0.70),
    Target("sync-json", FASTAPI, 2.5),
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What the report's header says about how the numbers were made."""

    date: str
    ambi: str
    load: str
    command: str
    machine: str
    settings: str
    versions: str


def cells(measurements: Iterable[Measurement]) -> dict[tuple[str, str], Cell]:
    grouped: dict[tuple[str, str], list[Measurement]] = {}
    for m in measurements:
        grouped.setdefault((m.contender, m.endpoint), []).append(m)
    return {key: Cell.of(group) for key, group in grouped.items()}


def ratio(table: dict[tuple[str, str], Cell], name: str, base: str, endpoint: str) -> float | None:
    """`name`'s median req/s over `base`'s on `endpoint`, None unless both were measured."""
    cell, base_cell = table.get((name, endpoint)), table.get((base, endpoint))
    if cell is None or base_cell is None or cell.error or base_cell.error:
        return None
    return cell.requests_per_s / base_cell.requests_per_s


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _row(
    table: dict[tuple[str, str], Cell], contender: Contender, endpoint: str, server: str
) -> str:
    cell = table[(contender.name, endpoint)]
    if cell.error:
        return f"| {contender.name} | {server} | n/a (error) | - | - | - | - |"
    return (
        f"| {contender.name} | {server} | {cell.requests_per_s:,.0f} | {cell.p99_ms:.2f} "
        f"| {_times(ratio(table, contender.name, BARE_RSGI, endpoint))} "
        f"| {_times(ratio(table, contender.name, FASTAPI, endpoint))} "
        f"| {cell.low:,.0f} .. {cell.high:,.0f} |"
    )


def _endpoint_table(
    table: dict[tuple[str, str], Cell],
    contenders: Sequence[Contender],
    endpoint: Endpoint,
    options: ServerOptions,
) -> list[str]:
    lines = [
        f"### {endpoint.label}",
        "",
        "| contender | server | req/s (median) | p99 ms (median) | vs bare-rsgi | vs fastapi "
        "| req/s range |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    lines += [
        _row(table, c, endpoint.name, c.describe(options))
        for c in contenders
        if (c.name, endpoint.name) in table
    ]
    return [*lines, ""]


def _targets(table: dict[tuple[str, str], Cell], contenders: Sequence[Contender]) -> list[str]:
    lines = ["## Targets", "", "| target | measured | verdict |", "|---|--:|---|"]
    ambis = [c.name for c in contenders if c.name.startswith("ambi")] or ["ambi"]
    for target in TARGETS:
        for name in ambis:
            measured = ratio(table, name, target.baseline, target.endpoint)
            if measured is None:
                verdict = "not measured"
            else:
                verdict = "met" if measured >= target.ratio else "missed"
            lines.append(
                f"| {name} `{target.endpoint}` ≥ {target.ratio:g}x {target.baseline} "
                f"| {_times(measured)} | {verdict} |"
            )
    return [*lines, ""]


def error_summary(error: str) -> str:
    """One line of an error: the exception line of a traceback if it has one."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    exceptions = [line for line in lines if EXCEPTION_LINE.match(line)]
    last = exceptions[-1] if exceptions else lines[-1]
    return lines[0] if last == lines[0] else f"{lines[0]} {last}"


def _cell_notes(m: Measurement) -> list[str]:
    where = f"- **{m.contender}** `{m.endpoint}` round {m.round}:"
    notes = []
    if m.error is not None:
        notes.append(f"{where} {error_summary(m.error)}")
    elif m.result is not None and m.result.socket_errors:
        notes.append(f"{where} {m.result.socket_errors} socket errors/timeouts under load")
    if m.tracebacks:
        notes.append(
            f"{where} the server logged {m.tracebacks} traceback(s) "
            f"(see benchmarks/out/logs/{m.contender}.log)"
        )
    if m.foreign_load > NOISY_LOAD:
        notes.append(f"{where} other processes took {m.foreign_load:.2f} cores meanwhile")
    return notes


def _notes(measurements: Sequence[Measurement], contenders: Sequence[Contender]) -> list[str]:
    lines = ["## Notes", ""]
    lines += [f"- **{c.name}**: {c.note}" for c in contenders if c.note]
    reported_broken: set[str] = set()
    for m in measurements:
        if not m.started:  # one note per contender that failed to start
            if m.contender not in reported_broken:
                reported_broken.add(m.contender)
                lines.append(f"- **{m.contender}**: {error_summary(m.error or '')}")
            continue
        lines += _cell_notes(m)
    return [*lines, ""]


def _foreign_summary(measurements: Sequence[Measurement]) -> str:
    loads = [m.foreign_load for m in measurements if m.started]
    if not loads:
        return "-"
    noisy = sum(load > NOISY_LOAD for load in loads)
    repeated = sum(m.attempts > 1 for m in measurements)
    return (
        f"median {statistics.median(loads):.2f}, max {max(loads):.2f}; "
        f"{noisy} of {len(loads)} cells above {NOISY_LOAD} (listed in the notes); "
        f"{repeated} cells measured again because other processes were busy"
    )


def render(
    info: RunInfo,
    measurements: Sequence[Measurement],
    contenders: Sequence[Contender],
    endpoints: Sequence[Endpoint],
    options: ServerOptions,
) -> str:
    table = cells(measurements)
    lines = [
        "## Run",
        "",
        f"- date: {info.date}",
        f"- ambi: {info.ambi}",
        f"- command: `{info.command}`",
        f"- machine: {info.machine}",
        f"- settings: {info.settings}",
        f"- versions: {info.versions}",
        f"- load average (1 min): {info.load}",
        f"- other processes' CPU during the cells (cores): {_foreign_summary(measurements)}",
        "",
        "## Results",
        "",
    ]
    for endpoint in endpoints:
        lines += _endpoint_table(table, contenders, endpoint, options)
    lines += _targets(table, contenders)
    lines += _notes(measurements, contenders)
    return "\n".join(lines)
