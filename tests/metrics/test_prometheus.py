"""Prometheus exposition at `enable_metrics(path=...)`: parsed with prometheus-client's own
parser; in one process and added up over two worker processes of a real server."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import Counter
from prometheus_client.parser import text_string_to_metric_families

from ambi import App
from ambi.testing import TestClient
from tests.servers.conftest import ROOT, free_port, start_process

ClientFor = Callable[[App], TestClient]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(parsed: Samples, name: str, **labels: str) -> float:
    return parsed[name, tuple(sorted(labels.items()))]


def test_exposition_parses_and_counts(client_for: ClientFor) -> None:
    app = App()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    app.enable_metrics()
    client = client_for(app, raise_server_exceptions=False)
    for i in range(3):
        client.get(f"/users/{i}")
    client.get("/users/nope")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    parsed = samples(response.text)
    route = {"method": "GET", "route": "/users/{user_id}"}
    assert value(parsed, "ambi_http_requests_total", status_class="2xx", **route) == 3
    assert value(parsed, "ambi_http_requests_total", status_class="4xx", **route) == 1
    assert value(parsed, "ambi_http_request_duration_seconds_count", **route) == 4
    assert value(parsed, "ambi_http_request_duration_seconds_bucket", le="+Inf", **route) == 4
    assert 0 < value(parsed, "ambi_http_request_duration_seconds_sum", **route) < 4 * 5.0
    assert value(parsed, "ambi_http_requests_in_flight", **route) == 0
    assert value(parsed, "ambi_http_cancelled_total", **route) == 0
    scrape = {"method": "GET", "route": "/metrics"}
    assert value(parsed, "ambi_http_requests_in_flight", **scrape) == 1  # itself
    assert value(parsed, "ambi_thread_pool_max_workers") == 40
    assert value(parsed, "ambi_handlers", kind="async") == 1
    assert value(parsed, "ambi_handlers", kind="thread") == 0
    # the scrape itself is answered by a route too, and counted
    assert (
        value(
            samples(client.get("/metrics").text),
            "ambi_http_requests_total",
            method="GET",
            route="/metrics",
            status_class="2xx",
        )
        == 1
    )
    assert "/metrics" not in app.openapi()["paths"]


def test_users_own_metrics_are_exposed_too(client_for: ClientFor) -> None:
    orders = Counter("ambi_test_orders", "orders taken in a test")
    try:
        orders.inc(2)
        app = App()
        app.enable_metrics("/_prom")
        parsed = samples(client_for(app, raise_server_exceptions=False).get("/_prom").text)
        assert value(parsed, "ambi_test_orders_total") == 2
    finally:
        from prometheus_client import REGISTRY

        REGISTRY.unregister(orders)


def _get(url: str) -> Any:
    with httpx.Client(timeout=5.0) as client:  # a new connection each time
        return client.get(url)


@pytest.mark.server
def test_two_workers_add_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "prom"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    port = free_port()
    argv = [str(ROOT / ".venv/bin/ambi"), "run", "tests/servers/apps/metrics_app.py:app"]
    argv += ["--port", str(port), "--workers", "2"]
    server = start_process(argv, port, tmp_path / "out", ready_path="/hit/0")
    try:
        base = server.base_url
        pids: set[int] = set()
        sent = 0
        deadline = time.monotonic() + 20
        while (len(pids) < 2 or sent < 30) and time.monotonic() < deadline:
            pids.add(_get(f"{base}/hit/{sent}").json()["pid"])
            sent += 1
        assert len(pids) == 2, "both workers served\n" + server.describe()
        route = {"method": "GET", "route": "/hit/{n}", "status_class": "2xx"}
        expected = sent + 1  # and the readiness probe
        counted = 0.0
        deadline = time.monotonic() + 10
        while counted != expected and time.monotonic() < deadline:
            time.sleep(0.3)  # the workers write their files every 0.2 s
            counted = value(
                samples(_get(f"{base}/metrics").text), "ambi_http_requests_total", **route
            )
        assert counted == expected, server.describe()
        assert len(list(directory.glob("ambi_*.json"))) == 2
    finally:
        assert server.stop(signal.SIGINT) == 0, server.describe()
