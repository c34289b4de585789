"""Seed 001 (Catzilla's hybrid-system page, reStructuredText): its code blocks, in one
module (`seeds/c001_hybrid.py`), run on ambi with only import lines changed.

This page's variants use unmarked parameters: `fetch_user_data(request, user_id: int)` is a
required query parameter, `process_pipeline(request, data: List[dict])` and
`process_report(request, report_data: dict)` are bodies, and `process_large_dataset(request)`
reads `request.body` itself.

Not called: `/handler-stats` and `/performance-metrics` (they import `get_handler_stats` /
`get_performance_metrics` from `catzilla.core`; ambi's metrics arrive with a later issue).
"""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import App
from ambi.testing import TestClient

from .seeds import c001_hybrid

ClientFor = Callable[[App], TestClient]


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    return client_for(c001_hybrid.app)


def errors(response: Any) -> list[tuple[tuple[Any, ...], str]]:
    assert response.status_code == 422, response.text
    return sorted((tuple(e["loc"]), e["type"]) for e in response.json()["detail"])


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
