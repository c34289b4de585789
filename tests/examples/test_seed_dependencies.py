"""The dependency and background-task examples of the Cello (003) and FastAPI (004) seeds,
run with only their imports changed, over ASGI and RSGI."""

from collections.abc import Callable

import pytest

from ambi import Request
from ambi.testing import TestClient

from .seeds import (
    _cello,
    _fastapi,
    c003_background,
    c003_dependencies,
    c004_background,
    c004_database,
)

ClientFor = Callable[..., TestClient]


@pytest.fixture
def cello(client_for: ClientFor) -> TestClient:
    _cello.app.db.events.clear()  # type: ignore[attr-defined]
    _cello.email_service.calls.clear()
    _cello.inventory_service.calls.clear()
    return client_for(c003_dependencies.app)


def test_cello_async_generator_dependency_and_current_user(cello: TestClient) -> None:
    response = cello.get("/profile", headers={"authorization": "Bearer token-ada"})
    assert response.json() == {"name": "Ada", "email": "ada@example.com"}
    # The connection is released after the response, once.
    assert _cello.app.db.events == ["acquire", "query", "release"]  # type: ignore[attr-defined]


def test_cello_invalid_token_goes_through_the_exception_handlers(
    cello: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match="Invalid token"):  # the test client re-raises it
        cello.get("/profile", headers={"authorization": "Bearer nobody"})
    cello.raise_server_exceptions = False
    _cello.app.db.events.clear()  # type: ignore[attr-defined]
    response = cello.get("/profile", headers={"authorization": "Bearer nobody"})
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
    assert "Invalid token" in caplog.text
    assert _cello.app.db.events == ["acquire", "query", "release"]  # type: ignore[attr-defined]

    def invalid_token(request: Request, exc: ValueError) -> tuple[dict[str, str], int]:
        return {"detail": str(exc)}, 401

    _cello.app.add_exception_handler(ValueError, invalid_token)
    try:
        response = cello.get("/profile")
        assert (response.status_code, response.json()) == (401, {"detail": "Invalid token"})
    finally:
        del _cello.app._exception_handlers[ValueError]


def test_cello_background_tasks_created_inside_the_handler(cello: TestClient) -> None:
    assert c003_background.app is c003_dependencies.app
    order = {"items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 1}]}
    response = cello.post("/orders", json=order)
    assert response.status_code == 201
    order_id = response.json()["order_id"]
    assert response.json() == {"order_id": order_id, "status": "created"}
    assert _cello.email_service.calls == [
        ("send", {"template": "order_confirmation", "order_id": order_id})
    ]
    assert _cello.inventory_service.calls == [
        ("decrement", {"sku": "a-1", "qty": 2}),
        ("decrement", {"sku": "b-2", "qty": 1}),
    ]


def test_fastapi_create_user_with_background_tasks(client_for: ClientFor) -> None:
    client = client_for(c004_background.app)
    response = client.post("/users/", json={"name": "Grace", "email": "g@example.com"})
    assert response.status_code == 200
    new_id = response.json()["id"]
    assert response.json() == {"id": new_id, "name": "Grace"}
    assert _fastapi.email_service.sent[-1] == new_id
    invalid = client.post("/users/", json={"name": "Grace"})
    assert invalid.status_code == 422
    assert [e["loc"] for e in invalid.json()["detail"]] == [["body", "email"]]


def test_fastapi_get_user_with_an_async_session_dependency(client_for: ClientFor) -> None:
    assert c004_database.app is c004_background.app
    client = client_for(c004_database.app)
    _fastapi.sessions_opened.clear()
    assert client.get("/users/1").json() == {"id": 1, "name": "Ada"}
    assert client.get("/users/99").json() is None
    assert client.get("/users/x").status_code == 422
    assert _fastapi.sessions_opened == ["open", "closed", "open", "closed"]
