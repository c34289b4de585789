"""`app.enable_jwt(...)`: valid bearer tokens put their claims on `request.auth`; every
kind of bad token is a 401 with `WWW-Authenticate: Bearer error="invalid_token"`, never a
500; unsafe configurations fail at registration."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from ambi import App, ConfigurationError, HTTPException, Request
from ambi.security import JWTAuth
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
SECRET = "a-test-secret-of-thirty-two-bytes!!"


def _pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def token(
    claims: dict[str, Any] | None = None, key: Any = SECRET, alg: str = "HS256", **headers: Any
) -> str:
    payload = {"sub": "ada", "exp": time.time() + 60, **(claims or {})}
    return jwt.encode(payload, key, algorithm=alg, headers=headers or None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    """A token built without PyJWT (which refuses to make the attacks tested here)."""
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if secret is None:
        return signing + "."
    digest = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(digest)}"


def _app(**options: Any) -> App:
    app = App()
    app.enable_jwt(**options)

    @app.get("/me")
    def me(request: Request) -> Any:
        return {"auth": request.auth}

    @app.get("/public/info")
    def info(request: Request) -> Any:
        return {"auth": request.auth}

    @app.get("/users/{name}")
    def user(request: Request, name: str) -> Any:
        return {"auth": request.auth, "name": name}

    return app


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def assert_refused(response: Any, description: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": f"Invalid token: {description}"}
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"'
    )


def test_a_valid_token_puts_its_claims_on_request_auth(client_for: ClientFor) -> None:
    client = client_for(_app(secret=SECRET))
    response = client.get("/me", headers=bearer(token({"roles": ["editor"]})))
    assert response.status_code == 200
    auth = response.json()["auth"]
    assert (auth["sub"], auth["roles"]) == ("ada", ["editor"])
    # Not required: no token is anonymous; another scheme is no token.
    assert client.get("/me").json() == {"auth": None}
    assert client.get("/me", headers={"authorization": "Basic YTpi"}).json() == {"auth": None}


def test_a_missing_token_where_required(client_for: ClientFor) -> None:
    client = client_for(_app(secret=SECRET, required=True))
    for headers in ({}, {"authorization": "Bearer "}, {"authorization": "Basic YTpi"}):
        response = client.get("/me", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated: a bearer token is required"}
        assert response.headers["www-authenticate"] == (
            'Bearer error="invalid_token", error_description="missing bearer token"'
        )
    assert client.get("/me", headers=bearer(token())).status_code == 200
    # The framework's docs stay reachable.
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda: token(key="another-secret-of-thirty-two-bytes"), "bad signature"),
        (lambda: token()[:-3] + ("AAA" if not token().endswith("AAA") else "BBB"), "bad signature"),
        (lambda: token({"exp": time.time() - 5}), "token expired"),
        (lambda: token({"nbf": time.time() + 60}), "token not yet valid"),
        (lambda: token({"aud": "someone-else"}), "wrong audience"),
        (lambda: token({"iss": "https://evil.example"}), "wrong issuer"),
        (lambda: token({"exp": "tomorrow"}), "malformed token"),
        (lambda: "not.a.token", "malformed token"),
        (lambda: "garbage", "malformed token"),
        (lambda: token(alg="HS512", key=SECRET * 2), "algorithm not allowed"),
    ],
    ids=[
        "other-secret",
        "tampered",
        "expired",
        "not-yet-valid",
        "audience",
        "issuer",
        "exp-not-a-number",
        "three-bad-parts",
        "one-part",
        "algorithm",
    ],
)
def test_bad_tokens_are_401(
    client_for: ClientFor, make: Callable[[], str], description: str
) -> None:
    app = _app(secret=SECRET, audience="ambi-tests", issuer="https://auth.example")
    good = token({"aud": "ambi-tests", "iss": "https://auth.example"})
    client = client_for(app)
    assert client.get("/me", headers=bearer(good)).status_code == 200
    bad = make()
    if description in ("wrong audience", "wrong issuer"):
        claims = {"aud": "ambi-tests", "iss": "https://auth.example"}
        claims.update(jwt.decode(bad, options={"verify_signature": False}))
        bad = token(claims)
    assert_refused(client.get("/me", headers=bearer(bad)), description)


def test_required_claims_and_leeway(client_for: ClientFor) -> None:
    client = client_for(_app(secret=SECRET, require=["exp", "sub", "jti"], leeway=30))
    assert_refused(client.get("/me", headers=bearer(token())), "missing claim jti")
    recent = token({"jti": "1", "exp": time.time() - 10})  # expired, within the leeway
    assert client.get("/me", headers=bearer(recent)).status_code == 200
    # By default a token must expire.
    default = client_for(_app(secret=SECRET))
    no_exp = jwt.encode({"sub": "ada"}, SECRET, algorithm="HS256")
    assert_refused(default.get("/me", headers=bearer(no_exp)), "missing claim exp")


def test_alg_none_is_refused(client_for: ClientFor) -> None:
    client = client_for(_app(secret=SECRET))
    payload = {"sub": "mallory", "exp": time.time() + 60}
    for alg in ("none", "None", "NONE"):
        unsigned = hand_made({"alg": alg, "typ": "JWT"}, payload, None)
        response = client.get("/me", headers=bearer(unsigned))
        assert response.status_code == 401, alg
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_algorithm_confusion_is_refused(client_for: ClientFor) -> None:
    """An HS256 token whose HMAC key is the server's RSA public key (which attackers know)."""
    pem = _pem(RSA_KEY)
    client = client_for(_app(public_key=pem, algorithms=["RS256"]))
    assert client.get("/me", headers=bearer(token(key=RSA_KEY, alg="RS256"))).status_code == 200
    payload = {"sub": "mallory", "exp": time.time() + 60}
    forged = hand_made({"alg": "HS256", "typ": "JWT"}, payload, pem)
    assert_refused(client.get("/me", headers=bearer(forged)), "algorithm not allowed")
    # Allowing both families with one public key is refused at registration.
    with pytest.raises(ConfigurationError, match="verifies none of the algorithms"):
        App().enable_jwt(public_key=pem, algorithms=["HS256"])


@pytest.mark.parametrize(
    ("key", "alg"), [(RSA_KEY, "RS256"), (RSA_KEY, "PS256"), (EC_KEY, "ES256")]
)
def test_public_keys(client_for: ClientFor, key: Any, alg: str) -> None:
    client = client_for(_app(public_key=_pem(key).decode(), algorithms=["RS256", "PS256", "ES256"]))
    assert client.get("/me", headers=bearer(token(key=key, alg=alg))).json()["auth"]["sub"] == "ada"
    other = (
        rsa.generate_private_key(65537, 2048)
        if alg != "ES256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    assert_refused(client.get("/me", headers=bearer(token(key=other, alg=alg))), "bad signature")


def test_a_jwks_picks_the_key_by_kid(client_for: ClientFor) -> None:
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key()))
    jwks = {"keys": [{**rsa_jwk, "kid": "r1", "alg": "RS256"}, {**ec_jwk, "kid": "e1"}]}
    client = client_for(_app(jwks=jwks, algorithms=["RS256", "ES256"]))
    ok_rsa = token(key=RSA_KEY, alg="RS256", kid="r1")
    ok_ec = token(key=EC_KEY, alg="ES256", kid="e1")
    assert client.get("/me", headers=bearer(ok_rsa)).status_code == 200
    assert client.get("/me", headers=bearer(ok_ec)).status_code == 200
    # The wrong key for the kid, an unknown kid, no kid with several keys.
    assert_refused(
        client.get("/me", headers=bearer(token(key=EC_KEY, alg="ES256", kid="r1"))),
        "algorithm not allowed",
    )
    assert_refused(
        client.get("/me", headers=bearer(token(key=RSA_KEY, alg="RS256", kid="x"))), "bad signature"
    )
    assert_refused(
        client.get("/me", headers=bearer(token(key=RSA_KEY, alg="RS256"))), "bad signature"
    )
    # Confusion through a JWKS: HS256 keyed with the public key's PEM.
    forged = hand_made(
        {"alg": "HS256", "kid": "r1"}, {"sub": "m", "exp": time.time() + 60}, _pem(RSA_KEY)
    )
    assert_refused(client.get("/me", headers=bearer(forged)), "algorithm not allowed")


def test_exclude_paths_and_prefixes(client_for: ClientFor) -> None:
    app = _app(secret=SECRET, required=True, exclude=["/public/", "/users/guest"])
    client = client_for(app)
    assert client.get("/public/info").json() == {"auth": None}
    assert client.get("/users/guest").json() == {"auth": None, "name": "guest"}
    assert client.get("/users/ada").status_code == 401
    assert client.get("/me").status_code == 401
    # Decided per route at startup: the excluded static route has no stage at all.
    handles = {route.definition.path: route.handle for route in app.compiled}
    assert (
        handles["/public/info"]
        == next(r for r in app.compiled if r.definition.path == "/public/info")._core()
    )
    assert handles["/me"] != next(r for r in app.compiled if r.definition.path == "/me")._core()
    # A bad token on an excluded path is not even looked at.
    assert client.get("/public/info", headers=bearer("garbage")).status_code == 200


def test_handlers_errors_pass_through(client_for: ClientFor) -> None:
    app = App()
    app.enable_jwt(secret=SECRET)

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(418)

    assert client_for(app).get("/teapot", headers=bearer(token())).status_code == 418


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200)
    | st.binary(max_size=120).map(lambda b: _b64(b) + "." + _b64(b[::-1]) + "." + _b64(b))
)
def test_no_token_makes_a_500(value: str) -> None:
    auth = JWTAuth(SECRET)
    with pytest.raises(HTTPException) as refused:
        auth.verify(value)
    assert refused.value.status_code == 401
    assert refused.value.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_the_verification_is_not_cached() -> None:
    auth = JWTAuth(SECRET, leeway=0)
    short = token({"exp": time.time() + 1.2})
    assert auth.verify(short)["sub"] == "ada"
    time.sleep(1.5)
    with pytest.raises(HTTPException, match="token expired"):
        auth.verify(short)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "one key source"),
        ({"secret": SECRET, "public_key": _pem(RSA_KEY)}, "one key source"),
        ({"secret": SECRET, "algorithms": ["none"]}, "alg=none"),
        ({"secret": SECRET, "algorithms": ["HS256", "RS256"]}, "verifies HS256/HS384/HS512 only"),
        ({"secret": SECRET, "algorithms": ["XS1"]}, "unknown algorithm"),
        ({"secret": SECRET, "algorithms": "HS256"}, "non-empty list"),
        ({"secret": "short"}, "at least 32 bytes"),
        ({"secret": SECRET, "algorithms": ["HS512"]}, "at least 64 bytes"),
        ({"secret": _pem(RSA_KEY).decode()}, "PEM/SSH form"),
        ({"public_key": "not a key"}, "not a PEM public key"),
        ({"jwks": {"keys": []}}, "holds no keys"),
        ({"jwks": {"nokeys": 1}}, "takes a JWKS"),
        ({"jwks": {"keys": [{"kty": "RSA"}]}}, "key 0"),
        ({"secret": SECRET, "leeway": -1}, "leeway"),
        ({"secret": SECRET, "require": "exp"}, "list of claim names"),
        ({"secret": SECRET, "exclude": "/public"}, "list of paths"),
        ({"secret": SECRET, "exclude": ["public"]}, "starting with '/'"),
    ],
)
def test_unsafe_or_wrong_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App().enable_jwt(**options)


def test_enable_jwt_once_and_before_start(client_for: ClientFor) -> None:
    app = App()
    app.enable_jwt(secret=SECRET)
    with pytest.raises(ConfigurationError, match="already"):
        app.enable_jwt(secret=SECRET)
    other = App()
    client_for(other)
    with pytest.raises(ConfigurationError, match="before the app starts"):
        other.enable_jwt(secret=SECRET)


def test_openapi_declares_the_bearer_scheme() -> None:
    app = _app(secret=SECRET, exclude=["/public/"], scheme_name="bearerAuth")
    document = app.openapi()
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    paths = document["paths"]
    assert paths["/me"]["get"]["security"] == [{"bearerAuth": []}, {}]  # optional
    assert "security" not in paths["/public/info"]["get"]
    required = _app(secret=SECRET, required=True, exclude=["/users/guest"]).openapi()["paths"]
    assert required["/me"]["get"]["security"] == [{"JWT": []}]
    assert required["/users/{name}"]["get"]["security"] == [{"JWT": []}, {}]  # some excluded
