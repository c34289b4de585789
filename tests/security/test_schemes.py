"""FastAPI's security dependencies (`ambi.security`): what each reads, what it answers
when the credentials are missing or wrong (status, `WWW-Authenticate`), and
`auto_error=False`; documented in OpenAPI."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any

import pytest

from ambi import App, Depends
from ambi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
)
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]


def _basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {encoded}"}


def _serve(client_for: ClientFor, scheme: Any, **route: Any) -> TestClient:
    app = App()

    @app.get("/", **route)
    async def read(credentials: Any = Depends(scheme)) -> Any:
        if isinstance(credentials, HTTPAuthorizationCredentials | HTTPBasicCredentials):
            return credentials.model_dump()
        return {"value": credentials}

    return client_for(app)


CASES: list[tuple[Any, dict[str, Any], Any, dict[str, Any], str]] = [
    # scheme, request kwargs that authenticate, expected value, kwargs that do not, challenge
    (
        HTTPBearer(),
        {"headers": {"authorization": "Bearer abc"}},
        {"scheme": "Bearer", "credentials": "abc"},
        {"headers": {"authorization": "Basic abc"}},
        "Bearer",
    ),
    (
        HTTPBasic(realm="ambi"),
        {"headers": _basic("ada", "p:w")},
        {"username": "ada", "password": "p:w"},
        {"headers": {"authorization": "Bearer abc"}},
        'Basic realm="ambi"',
    ),
    (
        HTTPBasic(),
        {"headers": _basic("ada", "")},
        {"username": "ada", "password": ""},
        {},
        "Basic",
    ),
    (
        HTTPDigest(),
        {"headers": {"authorization": "Digest a=1"}},
        {"scheme": "Digest", "credentials": "a=1"},
        {"headers": {"authorization": "Bearer x"}},
        "Digest",
    ),
    (
        OAuth2PasswordBearer(tokenUrl="token"),
        {"headers": {"authorization": "bearer tok"}},
        {"value": "tok"},
        {"headers": {"authorization": "Basic tok"}},
        "Bearer",
    ),
    (
        OAuth2AuthorizationCodeBearer("https://a.example/auth", "token"),
        {"headers": {"authorization": "Bearer tok"}},
        {"value": "tok"},
        {},
        "Bearer",
    ),
    (
        OAuth2(),
        {"headers": {"authorization": "Anything goes"}},
        {"value": "Anything goes"},
        {},
        "Bearer",
    ),
    (APIKeyHeader(name="x-key"), {"headers": {"x-key": "k"}}, {"value": "k"}, {}, "APIKey"),
    (
        APIKeyQuery(name="key"),
        {"params": {"key": "k"}},
        {"value": "k"},
        {"params": {"key": ""}},
        "APIKey",
    ),
    (APIKeyCookie(name="session"), {"cookies": {"session": "k"}}, {"value": "k"}, {}, "APIKey"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: type(case[0]).__name__)
def test_schemes_read_their_credentials_and_refuse_without(
    client_for: ClientFor, case: tuple[Any, dict[str, Any], Any, dict[str, Any], str]
) -> None:
    scheme, good, value, bad, challenge = case
    client = _serve(client_for, scheme)
    client.cookies.clear()
    good = dict(good)
    cookies = good.pop("cookies", None)
    if cookies:
        client.cookies.update(cookies)
    assert client.get("/", **good).json() == value
    client.cookies.clear()
    for kwargs in (bad, {}):
        refused = client.get("/", **kwargs)
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Not authenticated"}
        assert refused.headers["www-authenticate"] == challenge
    scheme.auto_error = False
    try:
        assert client.get("/", **bad).json() in ({"value": None}, None)
    finally:
        scheme.auto_error = True


@pytest.mark.parametrize(
    "value", ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode()]
)
def test_basic_with_broken_credentials_is_401_even_without_auto_error(
    client_for: ClientFor, value: str
) -> None:
    client = _serve(client_for, HTTPBasic(auto_error=False))
    response = client.get("/", headers={"authorization": value})
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Basic")


def test_the_password_form(client_for: ClientFor) -> None:
    app = App()

    @app.post("/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        return vars(form)

    @app.post("/strict")
    def strict(form: OAuth2PasswordRequestFormStrict = Depends()) -> dict[str, Any]:
        return {"grant_type": form.grant_type}

    client = client_for(app)
    sent = {"username": "ada", "password": "pw", "scope": "me items", "client_id": "c"}
    assert client.post("/token", data=sent).json() == {
        "grant_type": None,
        "username": "ada",
        "password": "pw",
        "scopes": ["me", "items"],
        "client_id": "c",
        "client_secret": None,
    }
    invalid = client.post("/token", data={"username": "ada", "grant_type": "code"})
    assert invalid.status_code == 422
    locations = {tuple(e["loc"]) for e in invalid.json()["detail"]}
    assert locations == {("body", "password"), ("body", "grant_type")}
    assert client.post("/strict", data={"username": "a", "password": "b"}).status_code == 422
    ok = client.post("/strict", data={"username": "a", "password": "b", "grant_type": "password"})
    assert ok.json() == {"grant_type": "password"}


def test_openapi_security_schemes_and_operations() -> None:
    app = App()
    bearer = HTTPBearer(bearerFormat="JWT", description="a token")
    key = APIKeyHeader(name="x-key", scheme_name="key")
    oauth = OAuth2PasswordBearer(tokenUrl="/token", scopes={"read": "Read."}, refreshUrl="/refresh")

    @app.get("/a")
    def a(credentials: Any = Depends(bearer)) -> None: ...

    @app.get("/b", dependencies=[Depends(key)])
    def b(token: str = Depends(oauth)) -> None: ...

    @app.get("/open")
    def open_() -> None: ...

    document = app.openapi()
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "a token",
        },
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": "/token",
                    "refreshUrl": "/refresh",
                    "scopes": {"read": "Read."},
                }
            },
        },
        "key": {"type": "apiKey", "in": "header", "name": "x-key"},
    }
    paths = document["paths"]
    assert paths["/a"]["get"]["security"] == [{"HTTPBearer": []}]
    assert paths["/b"]["get"]["security"] == [{"key": []}, {"OAuth2PasswordBearer": []}]
    assert "security" not in paths["/open"]["get"]
    # The scheme's own request (the Authorization header) is not an ordinary parameter.
    assert "parameters" not in paths["/a"]["get"]


def test_openapi_is_valid_with_security() -> None:
    from openapi_spec_validator import validate

    app = App()
    oauth = OAuth2PasswordBearer(tokenUrl="token")

    @app.post("/token")
    def login(form: OAuth2PasswordRequestForm = Depends()) -> dict[str, str]:
        return {"access_token": form.username, "token_type": "bearer"}

    @app.get("/me")
    def me(token: str = Depends(oauth)) -> str:
        return token

    validate(app.openapi())
