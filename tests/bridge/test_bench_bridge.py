"""The bridge benchmark cannot rot: its seconds-long `--quick` mode runs here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_and_reports_every_section() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_bridge", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout
    for heading in (
        "## Sync call from a plain thread (case 2)",
        "## Sync call from an ambi worker thread to the app loop (case 1)",
        "## Async callers: what smartasync adds to `await`",
    ):
        assert heading in report
    for row in ("| ambi `f()` (smartasync, case 2) |", "| `asyncio.run(f())` |", "ambi / bare:"):
        assert row in report
