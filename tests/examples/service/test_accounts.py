"""Accounts of the reference service: register, log in (OAuth2 password form -> JWT),
`/me`, and the refusals (every route but the public ones needs a valid token)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from examples.service.settings import Settings

from ambi.testing import TestClient

from .conftest import sign_up


def test_register_login_and_me(client: TestClient) -> None:
    user = sign_up(client)
    me = client.get("/me", headers=user["headers"])  # async def, async engine
    assert me.status_code == 200
    assert me.json()["username"] == user["username"]
    assert me.json()["id"] == user["id"]


def test_register_refuses_a_taken_name_and_bad_input(client: TestClient) -> None:
    user = sign_up(client)
    again = client.post(
        "/auth/register", json={"username": user["username"], "password": "another one"}
    )
    assert (again.status_code, again.json()) == (409, {"detail": "this username is taken"})
    short = client.post("/auth/register", json={"username": "ab", "password": "x"})
    assert short.status_code == 422
    assert {e["loc"][-1] for e in short.json()["detail"]} == {"username", "password"}


def test_login_refusals_do_not_say_which_part_was_wrong(client: TestClient) -> None:
    user = sign_up(client, password="right password")
    wrong = client.post(
        "/auth/login", data={"username": user["username"], "password": "wrong password"}
    )
    unknown = client.post("/auth/login", data={"username": "nobody-here", "password": "x"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json() == {"detail": "wrong username or password"}
        assert response.headers["www-authenticate"] == "Bearer"
    missing = client.post("/auth/login", data={"username": user["username"]})
    assert missing.status_code == 422


def test_routes_need_a_valid_token(client: TestClient, service_settings: Settings) -> None:
    user = sign_up(client)
    missing = client.get("/projects")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    forged = jwt.encode(
        {"sub": str(user["id"]), "exp": datetime.now(UTC) + timedelta(minutes=5)},
        "another secret that is long enough!!",
        algorithm="HS256",
    )
    expired = jwt.encode(
        {"sub": str(user["id"]), "exp": datetime.now(UTC) - timedelta(minutes=1)},
        service_settings.jwt_secret,
        algorithm="HS256",
    )
    for token, why in ((forged, "bad signature"), (expired, "token expired"), ("x.y", None)):
        refused = client.get("/stats", headers={"authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        if why:
            assert why in refused.headers["www-authenticate"]
    no_subject = jwt.encode(
        {"exp": datetime.now(UTC) + timedelta(minutes=5)},
        service_settings.jwt_secret,
        algorithm="HS256",
    )
    assert client.get("/me", headers={"authorization": f"Bearer {no_subject}"}).status_code == 401
    # the public paths need none
    assert client.get("/health").json() == {"status": "ok", "database": True}
