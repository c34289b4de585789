"""Seed 000 (Catzilla's hybrid-system page, HTML): every example runs on ambi with only its
import lines changed, and answers valid and invalid input as the text says.

Each example is a module in `seeds/`, copied verbatim. Every test runs over both server
interfaces (ASGI and RSGI); the handlers are `def` or `async def` as the document wrote
them. "Background Task Integration" (`UploadFile.save_to`, `app.add_task`) is
`c000_upload_file`.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from openapi_spec_validator import validate

from ambi import App
from ambi.testing import AsyncTestClient, TestClient

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


def errors(response: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(loc, type) of every error in a 422 body, sorted."""
    assert response.status_code == 422, response.text
    return sorted((tuple(e["loc"]), e["type"]) for e in response.json()["detail"])


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


# process_large_dataset: a body model with v1 Field spellings ------------------------------


def test_process_data_accepts_a_valid_body(client_for: ClientFor) -> None:
    client = client_for(c000_process_data.app)
    payload = {
        "data": [{"id": 1, "value": 2.0, "name": "a"}, {"id": 2, "value": 4}],
        "processing_type": "premium",
    }
    response = client.post("/process-data", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 2
    assert body["processing_type"] == "premium"
    assert body["processed_items"][0] == {
        "id": 1,
        "processed_value": 3.0,
        "category": "processed",
        "score": 4.0,
        "name": "a",
    }
    assert body["processed_items"][1]["name"] is None


def test_process_data_defaults_processing_type(client_for: ClientFor) -> None:
    client = client_for(c000_process_data.app)
    response = client.post("/process-data", json={"data": [{"id": 1, "value": 0}]})
    assert response.json()["processing_type"] == "standard"


def test_process_data_lists_every_failing_field(client_for: ClientFor) -> None:
    client = client_for(c000_process_data.app)
    payload = {
        "data": [{"id": 0, "value": -1, "name": "x" * 101}],
        "processing_type": "basic",
    }
    assert errors(client.post("/process-data", json=payload)) == [
        (("body", "data", 0, "id"), "greater_than_equal"),
        (("body", "data", 0, "name"), "string_too_long"),
        (("body", "data", 0, "value"), "greater_than_equal"),
        (("body", "processing_type"), "string_pattern_mismatch"),
    ]


@pytest.mark.parametrize(
    ("items", "error"), [(0, "too_short"), (1001, "too_long")], ids=["empty", "too-many"]
)
def test_process_data_checks_min_and_max_items(
    client_for: ClientFor, items: int, error: str
) -> None:
    client = client_for(c000_process_data.app)
    payload = {"data": [{"id": 1, "value": 1}] * items}
    assert errors(client.post("/process-data", json=payload)) == [(("body", "data"), error)]


def test_process_data_refuses_a_missing_or_malformed_body(client_for: ClientFor) -> None:
    client = client_for(c000_process_data.app)
    assert errors(client.post("/process-data")) == [(("body",), "missing")]
    malformed = client.post(
        "/process-data", content=b'{"data": [', headers={"content-type": "application/json"}
    )
    assert errors(malformed) == [(("body", 10), "json_invalid")]
    # The connection (and the app) go on serving.
    assert client.post("/process-data", json={"data": [{"id": 1, "value": 1}]}).status_code == 200


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


# send_notifications: nested models, regex, min/max lengths, async ------------------------


def _notification(**overrides: Any) -> dict[str, Any]:
    return {"id": 1, "type": "email", "recipient": "a@example.com", "message": "hi", **overrides}


def test_send_notifications_sends_each(client_for: ClientFor) -> None:
    client = client_for(c000_send_notifications.app)
    payload = {"notifications": [_notification(), _notification(id=2, type="sms")]}
    response = client.post("/send-notifications", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sent"] == 2
    assert [r["type"] for r in body["results"]] == ["email", "sms"]
    assert body["handler_type"] == "async"


def test_send_notifications_validates_every_item(client_for: ClientFor) -> None:
    client = client_for(c000_send_notifications.app)
    payload = {
        "notifications": [
            _notification(type="fax"),
            _notification(id=0, recipient="", message="m" * 1001),
        ]
    }
    assert errors(client.post("/send-notifications", json=payload)) == [
        (("body", "notifications", 0, "type"), "string_pattern_mismatch"),
        (("body", "notifications", 1, "id"), "greater_than_equal"),
        (("body", "notifications", 1, "message"), "string_too_long"),
        (("body", "notifications", 1, "recipient"), "string_too_short"),
    ]
    empty = client.post("/send-notifications", json={"notifications": []})
    assert errors(empty) == [(("body", "notifications"), "too_short")]


# analyze_user (async) and process_report (def, model with List[dict]) --------------------


def test_analyze_user(client_for: ClientFor) -> None:
    client = client_for(c000_mixed_workloads.app)
    response = client.get("/analyze-user", params={"user_id": 3})
    assert response.status_code == 200
    assert response.json()["recommendations"] == ["recommendation_1", "recommendation_2"]
    assert errors(client.get("/analyze-user")) == [(("query", "user_id"), "missing")]


def test_process_report_computes_statistics(client_for: ClientFor) -> None:
    client = client_for(c000_mixed_workloads.app)
    payload = {
        "title": "Weekly",
        "data_points": [{"value": 2}, {"value": 3}, {}],
        "report_type": "weekly",
        "filters": {"region": "eu"},
    }
    response = client.post("/process-report", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["statistics"] == {"total": 10, "average": 10 / 3, "count": 3}
    assert body["saved_to"] == "report_weekly.json"


def test_process_report_rejects_invalid_reports(client_for: ClientFor) -> None:
    client = client_for(c000_mixed_workloads.app)
    payload = {"title": "", "data_points": [], "report_type": "hourly", "filters": []}
    assert errors(client.post("/process-report", json=payload)) == [
        (("body", "data_points"), "too_short"),
        (("body", "filters"), "dict_type"),
        (("body", "report_type"), "string_pattern_mismatch"),
        (("body", "title"), "string_too_short"),
    ]


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
    assert elapsed < 1.2  # three 0.5 s sleeps side by side, not 1.5 s in a row


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


# process_pipeline: data: List[dict] is the body --------------------------------------------


def test_process_pipeline(client_for: ClientFor) -> None:
    client = client_for(c000_pipeline.app)
    response = client.post("/process-pipeline", json=[{"value": 1}, {"value": 2}, {"x": 0}])
    assert response.status_code == 200, response.text
    assert response.json() == {"processed": 3, "save_result": {"saved": 3}}


def test_process_pipeline_rejects_what_is_not_a_list_of_objects(client_for: ClientFor) -> None:
    client = client_for(c000_pipeline.app)
    assert errors(client.post("/process-pipeline", json={"value": 1})) == [(("body",), "list_type")]
    assert errors(client.post("/process-pipeline", json=[{"a": 1}, 2])) == [
        (("body", 1), "dict_type")
    ]


def test_upload_file_saves_under_uploads_and_schedules_processing(
    client_for: ClientFor, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # the example saves to "uploads/", relative
    client = client_for(c000_upload_file.app)
    data = bytes(range(256)) * 8192  # 2 MiB: past the spool threshold, on disk
    response = client.post("/upload-file", files={"file": ("../photo.png", data, "image/png")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["file"] == {
        "filename": "../photo.png",
        "size": len(data),
        "content_type": "image/png",
        "path": "uploads/photo.png",
    }
    assert (tmp_path / "uploads" / "photo.png").read_bytes() == data
    assert body["task_id"].startswith("process_../photo.png_")
    again = client.post("/upload-file", files={"file": ("photo.png", b"second")}).json()
    assert again["file"]["path"] == "uploads/photo-1.png"  # never overwritten


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
