"""Tests of the dependencies example: run them with pytest like any test module."""

from ambi.testing import TestClient

from .dependencies import app, current_user

HEADERS = {"x-key": "secret", "x-user": "ada"}


def test_me() -> None:
    with TestClient(
        app
    ) as client:  # `with`: the app's startup and shutdown run too
        response = client.get("/me", headers=HEADERS)
    assert response.status_code == 200
    assert response.json() == {"name": "Ada Lovelace", "users": 1}


def test_a_missing_header_is_a_422() -> None:
    with TestClient(app) as client:
        response = client.get("/me", headers={"x-key": "secret"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-user"]


def test_with_a_fake_user() -> None:
    app.dependency_overrides[current_user] = lambda: {"name": "Test User"}
    try:
        with TestClient(app) as client:
            response = client.get("/me", headers={"x-key": "secret"})
    finally:
        app.dependency_overrides.clear()
    assert response.json() == {"name": "Test User", "users": 1}


def test_over_rsgi_and_strict() -> None:
    # interface="rsgi" drives the app as Granian's RSGI does; strict=True fails any
    # request that blocked the event loop (LoopBlockedError)
    with TestClient(app, interface="rsgi", strict=True) as client:
        assert client.get("/me", headers=HEADERS).status_code == 200
