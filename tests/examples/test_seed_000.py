"""Seed 000 (Catzilla's hybrid-system page, HTML): every example runs on ambi with only its
import lines changed, and answers valid and invalid input as the text says.

Each example is a module in `seeds/`, copied verbatim. Every test runs over both server
interfaces (ASGI and RSGI); the handlers are `def` or `async def` as the document wrote
them.

Here: the examples that take query, path and header parameters, those without parameters,
and their OpenAPI documents; the examples that take bodies: test_seed_000_bodies.py.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from openapi_spec_validator import validate

from ambi import App
from ambi.testing import AsyncTestClient, TestClient

from ._validation import errors
from .seeds import (
    c000_api_gateway,
    c000_calculate_tax,
    c000_compute_prime,
    c000_concurrent_demo,
    c000_debug_execution,
    c000_error_handling,
    c000_fetch_user_data,
    c000_handler_stats,
    c000_hybrid_detection,
    c000_mixed_workloads,
    c000_patterns,
    c000_performance_comparison,
    c000_performance_metrics,
    c000_pipeline,
    c000_process_data,
    c000_profile,
    c000_send_notifications,
    c000_upload_file,
    c000_user_dashboard,
)

ClientFor = Callable[[App], TestClient]


# compute_prime: Query(100, ge=2, le=10000) on a def handler ------------------------------


def test_compute_prime_answers_a_valid_n(client_for: ClientFor) -> None:
    client = client_for(c000_compute_prime.app)
    response = client.get("/compute-prime", params={"n": 30})
    assert response.status_code == 200
    body = response.json()
    assert body["primes"] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
    assert body["count"] == 10
    assert body["handler_type"] == "sync"


def test_compute_prime_uses_the_default(client_for: ClientFor) -> None:
    client = client_for(c000_compute_prime.app)
    assert client.get("/compute-prime").json()["count"] == 25  # primes below 100


@pytest.mark.parametrize(
    ("n", "error"),
    [("1", "greater_than_equal"), ("10001", "less_than_equal"), ("ten", "int_parsing")],
)
def test_compute_prime_rejects_an_invalid_n(client_for: ClientFor, n: str, error: str) -> None:
    client = client_for(c000_compute_prime.app)
    response = client.get("/compute-prime", params={"n": n})
    assert errors(response) == [(("query", "n"), error)]
    assert response.json()["detail"][0]["input"] == n


# fetch_user_data: Query(..., ge=1) on an async handler ------------------------------------


def test_fetch_user_data_runs_its_io_concurrently(client_for: ClientFor) -> None:
    client = client_for(c000_fetch_user_data.app)
    response = client.get("/fetch-user-data", params={"user_id": 7})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == {"id": 7, "name": "User 7"}
    assert len(body["posts"]) == 3
    assert float(body["total_time"].rstrip("s")) < 0.4  # gathered, not 0.45 s in sequence


@pytest.mark.parametrize(
    ("params", "error"),
    [({}, "missing"), ({"user_id": "0"}, "greater_than_equal"), ({"user_id": "x"}, "int_parsing")],
)
def test_fetch_user_data_rejects_a_bad_user_id(
    client_for: ClientFor, params: dict[str, str], error: str
) -> None:
    client = client_for(c000_fetch_user_data.app)
    response = client.get("/fetch-user-data", params=params)
    assert errors(response) == [(("query", "user_id"), error)]


# concurrent_demo: Header("unknown", alias="X-Request-ID") ---------------------------------


@pytest.mark.parametrize("name", ["X-Request-ID", "x-request-id", "X-REQUEST-ID"])
def test_concurrent_demo_reads_the_aliased_header(client_for: ClientFor, name: str) -> None:
    client = client_for(c000_concurrent_demo.app)
    response = client.get("/concurrent-demo", headers={name: "42"})
    assert response.json()["request_id"] == "42"


def test_concurrent_demo_defaults_the_header(client_for: ClientFor) -> None:
    client = client_for(c000_concurrent_demo.app)
    assert client.get("/concurrent-demo").json()["request_id"] == "unknown"


async def test_concurrent_demo_requests_do_not_block_each_other(interface: str) -> None:
    async with AsyncTestClient(c000_concurrent_demo.app, interface=interface) as client:  # type: ignore[arg-type]
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(client.get("/concurrent-demo", headers={"X-Request-ID": str(i)}) for i in range(3))
        )
        elapsed = time.perf_counter() - started
    assert [r.json()["request_id"] for r in responses] == ["0", "1", "2"]
    assert elapsed < 1.45  # three 0.5 s sleeps side by side, not 1.5 s in a row


# sync_error_demo / async_error_demo: bool query parameters ---------------------------------


@pytest.mark.parametrize("path", ["/sync-error-demo", "/async-error-demo"])
@pytest.mark.parametrize(
    ("value", "fails"),
    [("true", True), ("1", True), ("yes", True), ("on", True), ("false", False), ("off", False)],
)
def test_error_demo_reads_booleans(
    client_for: ClientFor, path: str, value: str, fails: bool
) -> None:
    client = client_for(c000_error_handling.app)
    response = client.get(path, params={"should_fail": value})
    assert response.status_code == (400 if fails else 200)
    assert ("error" in response.json()) is fails


@pytest.mark.parametrize("path", ["/sync-error-demo", "/async-error-demo"])
def test_error_demo_defaults_and_rejects(client_for: ClientFor, path: str) -> None:
    client = client_for(c000_error_handling.app)
    assert client.get(path).status_code == 200
    response = client.get(path, params={"should_fail": "maybe"})
    assert errors(response) == [(("query", "should_fail"), "bool_parsing")]


# Migration: user dashboards and tax calculation --------------------------------------------


@pytest.mark.parametrize(
    ("path", "version"), [("/user-dashboard", "v1_sync"), ("/user-dashboard-v2", "v2_async")]
)
def test_user_dashboards(client_for: ClientFor, path: str, version: str) -> None:
    client = client_for(c000_user_dashboard.app)
    response = client.get(path, params={"user_id": 5})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version
    assert response.json()["user"] == {"id": 5, "name": "User 5"}
    assert errors(client.get(path, params={"user_id": -5})) == [
        (("query", "user_id"), "greater_than_equal")
    ]


@pytest.mark.parametrize("path", ["/calculate-tax", "/calculate-tax-v2"])
def test_calculate_tax(client_for: ClientFor, path: str) -> None:
    client = client_for(c000_calculate_tax.app)
    assert client.post(path, params={"income": "60000"}).json()["tax"] == 15000.0
    assert client.post(path, params={"income": "1000.5"}).json()["tax"] == pytest.approx(150.075)
    assert errors(client.post(path, params={"income": "-1"})) == [
        (("query", "income"), "greater_than_equal")
    ]
    assert errors(client.post(path)) == [(("query", "income"), "missing")]


# API gateway: a path parameter without a marker ------------------------------------------


def test_api_gateway_receives_the_service(client_for: ClientFor, fake_aiohttp: Any) -> None:
    client = client_for(c000_api_gateway.app)
    response = client.get("/api-gateway/users")
    assert response.status_code == 200, response.text
    assert response.json() == {"proxied": "http://users.internal"}
    assert fake_aiohttp.requested == ["http://users.internal"]


# The examples without parameters run too ------------------------------------------------


@pytest.mark.parametrize(
    ("module", "path", "key"),
    [
        (c000_hybrid_detection, "/sync", "execution"),
        (c000_hybrid_detection, "/async", "execution"),
        (c000_performance_comparison, "/performance-comparison", "results"),
        (c000_profile, "/profile", "execution_time"),
        (c000_patterns, "/good-pattern", "combined"),
        (c000_patterns, "/bad-pattern", "combined"),
        (c000_handler_stats, "/handler-stats", "total_handlers"),
        (c000_debug_execution, "/debug-execution", "event_loop"),
        (c000_debug_execution, "/debug-execution-sync", "execution_context"),
        (c000_performance_metrics, "/performance-metrics", "metrics"),
    ],
)
def test_examples_without_parameters(
    client_for: ClientFor, module: Any, path: str, key: str
) -> None:
    client = client_for(module.app)
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert key in response.json()


def test_sync_handlers_run_off_the_main_thread(client_for: ClientFor) -> None:
    client = client_for(c000_debug_execution.app)
    body = client.get("/debug-execution-sync").json()
    assert body["is_main_thread"] is False


# Their OpenAPI documents -------------------------------------------------------------------

SEED_APPS = [
    c000_api_gateway,
    c000_calculate_tax,
    c000_compute_prime,
    c000_concurrent_demo,
    c000_error_handling,
    c000_fetch_user_data,
    c000_mixed_workloads,
    c000_pipeline,
    c000_process_data,
    c000_send_notifications,
    c000_upload_file,
    c000_user_dashboard,
]


@pytest.mark.parametrize("module", SEED_APPS, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_each_seed_app_documents_itself(module: Any) -> None:
    validate(module.app.openapi())


def test_compute_prime_is_documented_from_its_signature() -> None:
    op = c000_compute_prime.app.openapi()["paths"]["/compute-prime"]["get"]
    assert op["summary"] == "Compute Prime"  # FastAPI's: the name; the docstring describes
    assert op["description"] == "CPU-intensive prime calculation - perfect for sync"
    [n] = op["parameters"]
    assert n["description"] == "Number to check for primality"
    assert {"minimum": 2, "maximum": 10000, "default": 100, "type": "integer"}.items() <= n[
        "schema"
    ].items()


def test_models_and_header_aliases_are_documented() -> None:
    document = c000_send_notifications.app.openapi()
    item = document["components"]["schemas"]["NotificationItem"]
    assert item["properties"]["type"]["pattern"] == "^(email|sms|push)$"
    outer = document["components"]["schemas"]["NotificationRequest"]
    assert (
        outer["properties"]["notifications"]["minItems"],
        outer["properties"]["notifications"]["maxItems"],
    ) == (1, 100)
    demo = c000_concurrent_demo.app.openapi()["paths"]["/concurrent-demo"]["get"]
    assert [(p["name"], p["in"]) for p in demo["parameters"]] == [("X-Request-ID", "header")]
