"""Seed 001 (Catzilla's hybrid-system page, reStructuredText): its code blocks, in one
module (`seeds/c001_hybrid.py`), run on ambi with only import lines changed.

This page's variants use unmarked parameters: `fetch_user_data(request, user_id: int)` is a
required query parameter, `process_pipeline(request, data: List[dict])` and
`process_report(request, report_data: dict)` are bodies, and `process_large_dataset(request)`
reads `request.body` itself.

`/handler-stats` and `/performance-metrics` import `get_handler_stats` /
`get_performance_metrics` from `ambi` (from `catzilla.core` in the document) and answer
with the app's real numbers; request counts also with the app's metrics enabled.
"""

import importlib.util
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App
from ambi.testing import TestClient

from ._validation import errors
from .seeds import c001_hybrid

ClientFor = Callable[[App], TestClient]


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    return client_for(c001_hybrid.app)


def test_process_large_dataset_reads_the_raw_body(client: TestClient) -> None:
    response = client.post("/process-data", json={"data": [{"id": 1, "value": 2}]})
    assert response.status_code == 200, response.text
    assert response.json()["processed_items"] == [
        {"id": 1, "processed_value": 3.0, "category": "processed", "score": 4}
    ]
    assert client.post("/process-data").json()["total"] == 0  # no body: '{}'


def test_fetch_user_data_with_an_unmarked_int(client: TestClient) -> None:
    response = client.get("/fetch-user-data", params={"user_id": "12"})
    assert response.status_code == 200, response.text
    assert response.json()["user"] == {"id": 12, "name": "User 12"}
    assert errors(client.get("/fetch-user-data")) == [(("query", "user_id"), "missing")]
    assert errors(client.get("/fetch-user-data?user_id=abc")) == [
        (("query", "user_id"), "int_parsing")
    ]


def test_send_notifications_takes_a_list_of_dicts(client: TestClient) -> None:
    payload = [{"id": 1, "type": "email"}, {"id": 2, "type": "sms"}]
    response = client.post("/send-notifications", json=payload)
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["results"]] == [1, 2]
    assert errors(client.post("/send-notifications", json={"id": 1})) == [(("body",), "list_type")]


def test_analyze_user(client: TestClient) -> None:
    response = client.get("/analyze-user", params={"user_id": 4})
    assert response.status_code == 200, response.text
    assert response.json()["recommendations"] == ["recommendation_for_4"]
    assert errors(client.get("/analyze-user", params={"user_id": "4.5"})) == [
        (("query", "user_id"), "int_parsing")
    ]


def test_process_report_takes_a_dict_body(client: TestClient) -> None:
    response = client.post("/process-report", json={"a": 1, "b": 2})
    assert response.status_code == 200, response.text
    assert response.json()["processed_items"] == 2
    assert errors(client.post("/process-report", json=[1])) == [(("body",), "dict_type")]


def test_concurrent_demo_reads_the_header_itself(client: TestClient) -> None:
    assert client.get("/concurrent-demo", headers={"x-request-id": "9"}).json()["request_id"] == "9"
    assert client.get("/concurrent-demo").json()["request_id"] == "unknown"


@pytest.mark.parametrize("path", ["/sync-error-demo", "/async-error-demo"])
def test_error_demos(client: TestClient, path: str) -> None:
    assert client.get(path, params={"should_fail": "yes"}).status_code == 400
    assert client.get(path, params={"should_fail": "no"}).status_code == 200
    assert errors(client.get(path, params={"should_fail": "2"})) == [
        (("query", "should_fail"), "bool_parsing")
    ]


@pytest.mark.parametrize("path", ["/user-dashboard", "/user-dashboard-v2"])
def test_user_dashboards(client: TestClient, path: str) -> None:
    assert client.get(path, params={"user_id": 1}).json()["user"]["id"] == 1
    assert errors(client.get(path)) == [(("query", "user_id"), "missing")]


@pytest.mark.parametrize("path", ["/calculate-tax", "/calculate-tax-v2"])
def test_calculate_tax_with_an_unmarked_float(client: TestClient, path: str) -> None:
    assert client.post(path, params={"income": 100}).json()["tax"] == 15.0
    assert errors(client.post(path, params={"income": "lots"})) == [
        (("query", "income"), "float_parsing")
    ]


def test_api_gateway(client: TestClient, fake_aiohttp: Any) -> None:
    assert client.get("/api-gateway/billing").json() == {"proxied": "http://billing.internal"}


def test_process_pipeline(client: TestClient) -> None:
    response = client.post("/process-pipeline", json=[{"v": 1}, {"v": 2}])
    assert response.json() == {"processed": 2}
    assert errors(client.post("/process-pipeline", json=["x"])) == [(("body", 0), "dict_type")]


@pytest.mark.parametrize(
    "path",
    [
        "/sync",
        "/async",
        "/compute-prime",
        "/performance-comparison",
        "/profile",
        "/debug-execution",
        "/debug-execution-sync",
    ],
)
def test_examples_without_parameters(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


# /handler-stats and /performance-metrics: the app's real numbers ---------------------------


def test_handler_stats_counts_the_pages_handlers(client: TestClient) -> None:
    stats = client.get("/handler-stats").json()
    endpoints = [r.endpoint for r in c001_hybrid.app.routes]
    coroutines = sum(inspect.iscoroutinefunction(e) for e in endpoints)  # an independent count
    assert stats["total_handlers"] == len(endpoints) == 23
    assert stats["async_handlers"] == coroutines
    assert stats["sync_handlers"] == len(endpoints) - coroutines
    assert stats["by_kind"]["thread"] == stats["sync_handlers"]
    kinds = {r["path"]: r["kind"] for r in stats["routes"]}
    assert kinds["/debug-execution"] == "async"
    assert kinds["/debug-execution-sync"] == "thread"


def test_performance_metrics_without_request_metrics(client: TestClient) -> None:
    body = client.get("/performance-metrics").json()
    metrics = body["metrics"]
    assert metrics["enabled"] is False  # request counts need app.enable_metrics()
    assert metrics["handlers"]["total_handlers"] == 23
    pool = metrics["thread_pool"]
    assert pool["max_workers"] == 40
    assert pool["busy"] == 1  # this very handler runs in the pool
    assert 1 <= pool["threads"] <= 40
    assert body["recommendations"]["hybrid_benefit"] == "Best of both worlds"


def test_performance_metrics_with_request_metrics(client_for: ClientFor) -> None:
    """The same page, loaded again, on an app whose metrics are enabled."""
    spec = importlib.util.spec_from_file_location(
        "tests.examples.seeds.c001_hybrid_with_metrics", c001_hybrid.__file__
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.app.enable_metrics(path=None)
    client = client_for(module.app)
    for _ in range(3):
        assert client.get("/debug-execution-sync").status_code == 200
    assert client.get("/debug-execution").status_code == 200
    metrics = client.get("/performance-metrics").json()["metrics"]
    routes = {r["route"]: r for r in metrics["routes"]}
    assert routes["/debug-execution-sync"]["requests"] == 3
    assert routes["/debug-execution-sync"]["responses"]["2xx"] == 3
    assert routes["/debug-execution"]["requests"] == 1
    assert routes["/performance-metrics"]["in_flight"] == 1  # the request asking
    assert metrics["total_requests"] == 4  # answered; the one asking is in flight
    latency = routes["/debug-execution-sync"]["latency_seconds"]
    assert 0 < latency["p50"] <= latency["p99"] < 5


def test_debug_execution_runs_sync_off_the_loop_thread(client: TestClient) -> None:
    on_loop = client.get("/debug-execution").json()
    in_pool = client.get("/debug-execution-sync").json()
    assert on_loop["handler_type"] == "async"
    assert in_pool["is_main_thread"] is False
    assert in_pool["thread_id"] != on_loop["thread_id"]
