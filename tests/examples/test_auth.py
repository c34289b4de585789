"""examples/auth.py: FastAPI's OAuth2 password flow (token route with
`OAuth2PasswordRequestForm`, JWT access tokens, `OAuth2PasswordBearer`, `Security`
scopes) behaves as FastAPI's tutorial says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from ambi.testing import TestClient

from ._load import load_example

auth = load_example("auth")
ClientFor = Callable[..., TestClient]


@pytest.fixture
def client(client_for: ClientFor) -> TestClient:
    return client_for(auth.app)


def _token(
    client: TestClient, username: str = "johndoe", password: str = "secret", scope: str = ""
) -> str:
    response = client.post(
        "/token", data={"username": username, "password": password, "scope": scope}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    return str(body["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_the_password_flow(client: TestClient) -> None:
    token = _token(client, scope="me items")
    me = client.get("/users/me/", headers=_bearer(token))
    assert me.json() == {
        "username": "johndoe",
        "email": "johndoe@example.com",
        "full_name": "John Doe",
        "disabled": False,
    }
    items = client.get("/users/me/items/", headers=_bearer(token))
    assert items.json() == [{"item_id": "Foo", "owner": "johndoe"}]
    assert client.get("/status/", headers=_bearer(token)).json() == {"status": "ok"}


def test_wrong_credentials_and_missing_tokens(client: TestClient) -> None:
    wrong = client.post("/token", data={"username": "johndoe", "password": "nope"})
    assert (wrong.status_code, wrong.json()) == (400, {"detail": "Incorrect username or password"})
    unknown = client.post("/token", data={"username": "nobody", "password": "secret"})
    assert unknown.status_code == 400
    missing = client.post("/token", data={"username": "johndoe"})
    assert missing.status_code == 422
    anonymous = client.get("/users/me/")
    assert (anonymous.status_code, anonymous.headers["www-authenticate"]) == (401, "Bearer")
    assert anonymous.json() == {"detail": "Not authenticated"}
    forged = client.get("/users/me/", headers=_bearer("not-a-jwt"))
    assert forged.status_code == 401
    assert forged.json() == {"detail": "Could not validate credentials"}
    assert forged.headers["www-authenticate"] == 'Bearer scope="me"'


def test_scopes_are_checked(client: TestClient) -> None:
    only_me = _token(client, scope="me")
    assert client.get("/users/me/", headers=_bearer(only_me)).status_code == 200
    refused = client.get("/users/me/items/", headers=_bearer(only_me))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Not enough permissions"}
    assert refused.headers["www-authenticate"] == 'Bearer scope="items me"'


def test_expired_tokens_and_inactive_users(client: TestClient) -> None:
    expired = auth.create_access_token({"sub": "johndoe", "scopes": ["me"]}, timedelta(seconds=-1))
    assert client.get("/users/me/", headers=_bearer(expired)).status_code == 401
    alice = _token(client, "alice", "secret2", "me")
    inactive = client.get("/users/me/", headers=_bearer(alice))
    assert (inactive.status_code, inactive.json()) == (400, {"detail": "Inactive user"})


def test_the_openapi_document_describes_the_flow() -> None:
    document = auth.app.openapi()
    assert document["components"]["securitySchemes"]["OAuth2PasswordBearer"] == {
        "type": "oauth2",
        "flows": {
            "password": {
                "tokenUrl": "token",
                "scopes": {
                    "me": "Read information about the current user.",
                    "items": "Read items.",
                },
            }
        },
    }
    paths = document["paths"]
    assert "security" not in paths["/token"]["post"]
    form = paths["/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    # the form is a `Body_<operation id>` schema by $ref, as FastAPI documents it
    body = form["schema"]["$ref"].removeprefix("#/components/schemas/")
    assert body == "Body_login_for_access_token_token_post"
    assert document["components"]["schemas"][body]["required"] == ["username", "password"]
    assert paths["/users/me/"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    assert paths["/users/me/items/"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["items", "me"]}
    ]
    assert paths["/status/"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
