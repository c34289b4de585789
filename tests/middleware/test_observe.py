"""enable_request_id and enable_logging."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambi import App, ConfigurationError
from ambi.middleware import RequestIdFilter, request_id
from ambi.middleware._request_id import _VALID
from ambi.testing import TestClient

Client = Callable[..., TestClient]


def _app(make_handler: Any, **logging_options: Any) -> App:
    app = App()
    app.enable_request_id()
    app.enable_logging(**logging_options)

    @app.get("/items/{item_id:int}")
    @make_handler
    def item(item_id: int) -> dict[str, Any]:
        return {"id": item_id, "request_id": request_id()}

    return app


def test_request_id_generated_echoed_and_seen_by_handlers(
    client_for: Client, make_handler: Any
) -> None:
    client = client_for(_app(make_handler))
    response = client.get("/items/1")
    rid = response.headers["x-request-id"]
    assert len(rid) == 32
    assert int(rid, 16) >= 0
    assert response.json()["request_id"] == rid
    assert client.get("/items/1").headers["x-request-id"] != rid
    assert request_id() is None  # outside a request


def test_valid_incoming_id_is_kept_invalid_replaced(client_for: Client, make_handler: Any) -> None:
    client = client_for(_app(make_handler))
    given_id = "req-2024.07:abc/DEF+1="
    response = client.get("/items/1", headers={"x-request-id": given_id})
    assert response.headers["x-request-id"] == given_id == response.json()["request_id"]
    for bad in ("", "x" * 129, "has space", "semi;colon", "new\\nline", "é"):
        response = client.get("/items/1", headers={"x-request-id": bad.encode()})
        assert response.headers["x-request-id"] != bad
        assert len(response.headers["x-request-id"]) == 32


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_echoed_id_is_always_safe(value: str) -> None:
    app = App()
    app.enable_request_id()
    app.get("/")(lambda: "ok")
    with TestClient(app) as client:
        echoed = client.get("/", headers={"x-request-id": value}).headers["x-request-id"]
    assert _VALID.fullmatch(echoed)
    assert echoed == value or not _VALID.fullmatch(value)


def test_request_id_options() -> None:
    app = App()
    app.enable_request_id("X-Correlation-ID", generator=lambda: "fixed")
    app.get("/")(request_id)
    with TestClient(app) as client:
        response = client.get("/")
    assert response.headers["x-correlation-id"] == "fixed" == response.text
    with pytest.raises(ConfigurationError):
        App().enable_request_id("bad header")
    with pytest.raises(ConfigurationError):
        App().enable_request_id(generator="uuid")  # type: ignore[arg-type]


def test_request_id_filter_on_log_records(caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    app.enable_request_id()
    logger = logging.getLogger("tests.app")

    @app.get("/")
    def index() -> str:
        logger.info("inside")
        return "ok"

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, "tests.app"), TestClient(app) as client:
        rid = client.get("/").headers["x-request-id"]
    assert [r.request_id for r in caplog.records if r.name == "tests.app"] == [rid]  # type: ignore[attr-defined]


def test_access_log_plain(
    client_for: Client, make_handler: Any, handler_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(_app(make_handler))
    with caplog.at_level(logging.INFO, "ambi.access"):
        rid = client.get("/items/7").headers["x-request-id"]
        client.get("/nowhere")
    lines = [r for r in caplog.records if r.name == "ambi.access"]
    assert len(lines) == 2
    first = lines[0].getMessage()
    assert first.startswith('testclient:50000 "GET /items/7" 200 ')
    kind = "sync" if handler_kind == "sync" else "async"
    assert f"route=/items/{{item_id:int}} kind={kind} id={rid}" in first
    fields = lines[0].access  # type: ignore[attr-defined]
    assert fields["status"] == 200
    assert fields["duration_ms"] >= 0
    assert fields["handler_kind"] == kind
    assert lines[1].access["status"] == 404  # type: ignore[attr-defined]
    assert lines[1].access["route"] is None  # type: ignore[attr-defined]


def test_access_log_json(
    client_for: Client, make_handler: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(_app(make_handler, format="json"))
    with caplog.at_level(logging.INFO, "ambi.access"):
        client.get("/items/3", headers={"x-request-id": "abc"})
    (record,) = [r for r in caplog.records if r.name == "ambi.access"]
    line = json.loads(record.getMessage())
    assert line == {**line, "method": "GET", "path": "/items/3", "status": 200, "request_id": "abc"}
    assert line["client"] == "testclient:50000"
    assert line["route"] == "/items/{item_id:int}"


def test_access_log_writes_somewhere_on_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    app = App()
    logger = logging.getLogger("tests.access.alone")
    logger.propagate = False
    app.enable_logging(logger=logger)
    app.get("/")(lambda: "ok")
    try:
        with TestClient(app) as client:
            client.get("/")
        assert '"GET /" 200' in capsys.readouterr().err
    finally:
        logger.handlers.clear()
        logger.propagate = True


def test_logging_mistakes() -> None:
    with pytest.raises(ConfigurationError, match="format"):
        App().enable_logging("xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="logger"):
        App().enable_logging(logger=42)  # type: ignore[arg-type]


def test_generated_ids_are_unique_random_hex() -> None:
    from ambi.middleware._request_id import new_request_id

    ids = [new_request_id() for _ in range(2000)]  # several refills of the pool
    assert len(set(ids)) == 2000
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in ids)
    new_request_id.forget()  # what a forked child does: a pool of its own
    assert new_request_id() not in ids
