"""Static files: ambi's StaticFiles against Starlette's, in one run on one machine.

    python -m benchmarks.bench_static [--duration 5] [--rounds 2] [--connections 64]

Each cell starts one server (one worker, pinned to core 0), checks one answer, and runs wrk
(pinned to core 1) for `--duration` seconds after a 1 s warm-up; cells are interleaved by
round. It prints the median req/s per cell and the ratio to `starlette-uvicorn`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchmarks.contenders import Contender, ServerOptions
from benchmarks.servers import HOST, free_port, pinned, running
from benchmarks.wrk import SCRIPT, WrkResult, parse_report, wrk_path

APPS = "benchmarks.apps.static_files"
CONTENDERS = [
    Contender("ambi-rsgi", f"{APPS}:ambi_app", "granian", "rsgi"),
    Contender("ambi-asgi-granian", f"{APPS}:ambi_app", "granian", "asgi"),
    Contender("starlette-in-ambi-rsgi", f"{APPS}:mounted_app", "granian", "rsgi"),
    Contender("starlette-granian", f"{APPS}:starlette_app", "granian", "asgi"),
    Contender("starlette-uvicorn", f"{APPS}:starlette_app", "uvicorn", "asgi"),
]
BASELINE = "starlette-uvicorn"
SMALL = b"body { color: #333 }\n" * 50  # 1 KiB
BIG = os.urandom(1024 * 1024)  # 1 MiB
#: name -> (path, extra request header, expected status, expected body)
CASES = {
    "1 KiB file": ("/static/small.css", None, 200, SMALL),
    "1 MiB file": ("/static/big.bin", None, 200, BIG),
    "64 KiB range": ("/static/big.bin", "Range: bytes=4096-69631", 206, BIG[4096:69632]),
}


def _check(port: int, path: str, header: str | None, status: int, body: bytes) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = dict([header.split(": ", 1)]) if header else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        got = response.read()
    finally:
        conn.close()
    if response.status != status or got != body:
        raise SystemExit(f"wrong answer for {path}: {response.status}, {len(got)} bytes")


def _wrk(url: str, header: str | None, duration: int, connections: int) -> WrkResult:
    wrk = wrk_path()
    if wrk is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    argv = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(SCRIPT), url]
    if header:
        argv[1:1] = ["-H", header]
    proc = subprocess.run(
        pinned(argv, 1), capture_output=True, text=True, check=True, timeout=duration + 30
    )
    return parse_report(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    options = ServerOptions.detect()
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "small.css").write_bytes(SMALL)
        (Path(folder) / "big.bin").write_bytes(BIG)
        env = {**os.environ, "BENCH_STATIC_DIR": folder}
        log = Path(folder) / "servers.log"
        for round_ in range(args.rounds):
            order = CONTENDERS[round_ % len(CONTENDERS) :] + CONTENDERS[: round_ % len(CONTENDERS)]
            for contender in order:
                port = free_port()
                argv = contender.argv(port, options)
                with running(argv, port=port, cpu=0, env=env, log=log, ready_timeout=30):
                    for case, (path, header, status, body) in CASES.items():
                        _check(port, path, header, status, body)
                        url = f"http://{HOST}:{port}{path}"
                        _wrk(url, header, 1, args.connections)  # warm-up
                        result = _wrk(url, header, args.duration, args.connections)
                        if result.non_2xx or result.socket_errors:
                            raise SystemExit(f"{contender.name} {case}: errors under load")
                        key = (contender.name, case)
                        results.setdefault(key, []).append(result.requests_per_s)
    print(f"{'contender':<24}" + "".join(f"{case:>22}" for case in CASES))
    for contender in CONTENDERS:
        cells = []
        for case in CASES:
            rate = statistics.median(results[(contender.name, case)])
            base = statistics.median(results[(BASELINE, case)])
            cells.append(f"{rate:>11,.0f} ({rate / base:4.2f}x)")
        print(f"{contender.name:<24}" + "".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
