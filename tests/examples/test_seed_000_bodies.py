"""Seed 000 (Catzilla's hybrid-system page, HTML): the examples that take request bodies
(models with v1 `Field` spellings, nested models, lists of objects, a file upload) run on
ambi with only their import lines changed, and answer valid and invalid bodies as the text
says, over both server interfaces. "Background Task Integration" (`UploadFile.save_to`,
`app.add_task`) is `c000_upload_file`. The other examples: test_seed_000.py.
"""

from collections.abc import Callable
from typing import Any

import pytest

from ambi import App
from ambi.testing import TestClient

from ._validation import errors
from .seeds import (
    c000_mixed_workloads,
    c000_pipeline,
    c000_process_data,
    c000_send_notifications,
    c000_upload_file,
)

ClientFor = Callable[[App], TestClient]


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
