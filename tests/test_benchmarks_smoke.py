"""The benchmark runner cannot rot: CI runs its seconds-long smoke mode (never the full run)."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.endpoints import ENDPOINTS, same_json
from benchmarks.report import error_summary
from benchmarks.wrk import parse_report

REPO = Path(__file__).resolve().parent.parent
SMOKE_TIMEOUT_S = 50


def test_same_json_tells_true_from_one() -> None:
    assert same_json({"a": [1, 2.0, True, None]}, {"a": [1.0, 2, True, None]})
    assert not same_json({"sync": 1}, {"sync": True})
    assert not same_json({"a": 1, "b": 2}, {"a": 1})
    assert not same_json(["42"], [42])


def test_wrk_report_line_is_parsed() -> None:
    stdout = (
        "Running 1s test @ http://127.0.0.1:1/json\n"
        'WRK_JSON {"duration_us": 2000000, "requests": 1000, "bytes": 1, "connect_errors": 0, '
        '"read_errors": 1, "write_errors": 0, "timeouts": 2, "non_2xx": 3, "p50_us": 900, '
        '"p90_us": 1500, "p99_us": 2500, "max_us": 9000, "mean_us": 950.5}\n'
    )
    result = parse_report(stdout)
    assert result.requests_per_s == 500
    assert result.p99_ms == 2.5
    assert (result.non_2xx, result.socket_errors) == (3, 3)


def test_error_summary_keeps_the_exception_line() -> None:
    log = "failed to start: exited with status 1:\nTraceback ...\nImportError: no App\n[ERROR] x"
    assert error_summary(log) == "failed to start: exited with status 1: ImportError: no App"


def test_every_endpoint_has_an_expected_answer() -> None:
    assert {"json", "sync-json", "items", "orders"} <= set(ENDPOINTS)
    assert all(e.expected for e in ENDPOINTS.values())


@pytest.mark.server
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_smoke_run_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "smoke.md"
    command = [sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(out)]
    proc = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=SMOKE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the runner stops its servers on SIGTERM
        stdout, stderr = proc.communicate(timeout=15)
        pytest.fail(f"smoke run took over {SMOKE_TIMEOUT_S} s:\n{stderr}")
    assert proc.returncode == 0, f"smoke run failed:\n{stderr}\n{stdout}"
    report = out.read_text()
    assert "### GET /json (async)" in report
    assert "| bare-rsgi |" in report


@pytest.mark.parametrize(
    "module",
    [
        "benchmarks.bench_pool",
        "benchmarks.bench_request",
        "benchmarks.bench_cache",
        "benchmarks.bench_inline",
    ],
)
def test_micro_benchmarks_run(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) >= 3  # the header and at least two measured rows


@pytest.mark.server
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_gc_freeze_ab_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_gc_freeze", "--rounds", "1", "--duration", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| gc.freeze |" in done.stdout
    assert "| no freeze |" in done.stdout


@pytest.mark.server
def test_websocket_memory_benchmark_runs() -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_ws_memory",
        "--connections",
        "5",
        "--paths",
        "granian-rsgi",
        "uvicorn-asgi",
    ]
    proc = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| granian-rsgi")]
    assert [row.split("|")[2].strip() for row in rows] == ["bare", "ambi"]


@pytest.mark.server
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_realistic_scenario_runs_and_checks_answers() -> None:
    """Every implementation of the realistic app answers the whole request mix right
    (checked before it is measured) when served for real."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.bench_realistic", "--rounds", "1"),
            *("--duration", "1", "--warmup", "0"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("bare-rsgi", "ambi", "ambi+asgi-mw", "fastapi", "starlette"):
        assert f"| {name} |" in done.stdout


def test_realistic_apps_have_the_promised_shape() -> None:
    from benchmarks.apps import realistic_ambi

    assert len(realistic_ambi.app.routes) >= 60
    assert realistic_ambi.app._enabled.keys() == {"cors", "request_id"}


def test_upload_benchmark_runs(tmp_path: Path) -> None:
    command = [
        *(sys.executable, "-m", "benchmarks.bench_uploads", "--rounds", "1", "--no-pin"),
        *("--big-mb", "3", "--small-kb", "10", "--small-count", "20"),
        *("--contenders", "ambi-rsgi,ambi-asgi", "--log", str(tmp_path / "uploads.log")),
    ]
    proc = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|")[1].strip() for line in proc.stdout.splitlines() if "MiB |" in line]
    assert rows == ["ambi-rsgi", "ambi-asgi"]


def test_upload_benchmark_serves_a_baseline_tree(tmp_path: Path) -> None:
    # the baseline is this tree's own src: the same app, served through PYTHONPATH
    command = [
        *(sys.executable, "-m", "benchmarks.bench_uploads", "--rounds", "1", "--no-pin"),
        *("--big-mb", "2", "--small-kb", "10", "--small-count", "5", "--baseline", "src"),
        *("--contenders", "ambi-rsgi,base-rsgi", "--log", str(tmp_path / "uploads.log")),
    ]
    proc = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|")[1].strip() for line in proc.stdout.splitlines() if "MiB |" in line]
    assert rows == ["ambi-rsgi", "base-rsgi"]
    refused = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_uploads", "--contenders", "base-rsgi"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        check=False,
    )
    assert refused.returncode == 2
    assert "need --baseline" in refused.stderr


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_process_pool_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_process", "--rounds", "1", "--duration", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| run='thread' |" in done.stdout
    assert "| run='process' |" in done.stdout


def test_variants_turn_one_feature_off() -> None:
    from benchmarks.apps.ambi_app import app
    from benchmarks.apps.ambi_variants import nowatch_app, pool_app
    from benchmarks.contenders import CONTENDERS

    assert pool_app.engine.inline_threshold is None
    assert pool_app.engine.block_threshold == app.engine.block_threshold
    assert nowatch_app.engine.block_threshold is None
    assert nowatch_app.engine.inline_threshold == app.engine.inline_threshold
    assert [r.path for r in pool_app.routes] == [r.path for r in app.routes]
    assert not CONTENDERS["ambi-pool"].default
    assert not CONTENDERS["ambi-nowatch"].default


def test_security_benchmark_smoke_run() -> None:
    """`bench_security --quick` (in-process) serves every endpoint with a 200, or exits 1."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_security", "--quick", "--verify"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| GET /json-limited |" in done.stdout
    assert "| GET /json-jwt |" in done.stdout
    assert "JWTAuth.verify alone" in done.stdout


def test_cello_runs_with_the_python_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.contenders import CELLO_PYTHON_ENV, CONTENDERS, ServerOptions

    cello, options = CONTENDERS["cello"], ServerOptions("asyncio", "h11")
    monkeypatch.setenv(CELLO_PYTHON_ENV, "/opt/py312/bin/python")
    argv = cello.argv(8123, options)
    assert argv[:3] == ["/opt/py312/bin/python", "-m", "benchmarks.apps.cello_app"]
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--workers") + 1] == "1"
    monkeypatch.delenv(CELLO_PYTHON_ENV)
    with pytest.raises(SystemExit, match=CELLO_PYTHON_ENV):
        cello.argv(8123, options)


def test_body_timeout_benchmark_modes_run() -> None:
    """Each mode of bench_body_timeout runs (the part valgrind measures, in-process)."""
    from benchmarks.bench_body_timeout import MODES, _reads

    for mode in MODES:
        asyncio.run(_reads(mode, 100))


def test_the_hand_written_realistic_app_has_the_same_routes() -> None:
    """63 routes, as the framework apps: two open, 60 per resource, the checkout."""
    from benchmarks.apps import realistic_ambi, realistic_rsgi

    count = len(realistic_rsgi.OPEN) + len(realistic_rsgi.STATIC) + len(realistic_rsgi.DYNAMIC)
    assert count + 1 == len(realistic_ambi.app.routes) == 63  # + the checkout


@pytest.mark.parametrize("side", ["bare-rsgi", "ambi"])
def test_realistic_instructions_child_serves_the_mix(side: str) -> None:
    """What runs under callgrind: the warm-up and the mix, every answer a 200."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_realistic_instructions", "--child", side, "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
