"""The Cello seed's (003) guarded `create_item` and its `enable_rate_limit(...)` line, run
with only their imports changed, over ASGI and RSGI."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest

from ambi.testing import TestClient

from .seeds import _cello, c003_guards, c003_ratelimit

ClientFor = Callable[..., TestClient]
SECRET = "the-seed-tests-secret-32-bytes-long!"

# The snippet leaves authentication to the app; here, JWT bearer tokens (enabled once:
# the module-level app is started by every test).
c003_guards.app.enable_jwt(secret=SECRET)


def _bearer(claims: dict[str, object]) -> dict[str, str]:
    token = jwt.encode({"exp": time.time() + 60, **claims}, SECRET, algorithm="HS256")
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def guarded(client_for: ClientFor) -> TestClient:
    _cello.db.rows.clear()
    return client_for(c003_guards.app)


def test_an_editor_creates_an_item(guarded: TestClient) -> None:
    response = guarded.post(
        "/items", json={"name": "Widget", "price": 9.5}, headers=_bearer({"roles": ["editor"]})
    )
    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "Widget"}
    assert _cello.db.rows == [{"name": "Widget", "price": 9.5}]


def test_anonymous_is_401_and_another_role_403_before_the_body_is_validated(
    guarded: TestClient,
) -> None:
    anonymous = guarded.post("/items", json={"name": "Widget"})  # an invalid body, too
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "detail": "Not authenticated: this route needs one of the roles editor"
    }
    viewer = guarded.post("/items", json={"price": "x"}, headers=_bearer({"role": "viewer"}))
    assert viewer.status_code == 403
    assert viewer.json() == {"detail": "Forbidden: this route needs one of the roles editor"}
    assert _cello.db.rows == []


def test_the_body_is_validated_for_an_editor(guarded: TestClient) -> None:
    response = guarded.post("/items", json={"name": "Widget"}, headers=_bearer({"role": "editor"}))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "price"]]


def test_the_token_bucket_allows_100_then_refills_at_100_per_minute(client_for: ClientFor) -> None:
    client = client_for(c003_ratelimit.app)
    # A fresh budget for this test (the module-level app outlives tests).
    for route in c003_ratelimit.app.rate_limits:
        if route.limit is not None:
            route.limit.limiter._states.clear()
    statuses = [client.get("/hello").status_code for _ in range(101)]
    assert statuses == [200] * 100 + [429]
    refused = client.get("/hello")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"  # a token every 0.6 s
    assert refused.headers["ratelimit-limit"] == "100"
    time.sleep(0.65)
    again = client.get("/hello")
    assert (again.status_code, again.json()) == (200, {"message": "Hello, World!"})
    assert again.headers["ratelimit-remaining"] == "0"
