"""enable_cors: preflights for any path, headers for allowed origins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, ConfigurationError
from ambi.testing import TestClient

Client = Callable[..., TestClient]
ORIGIN = "https://app.example"


def _preflight(method: str = "POST", headers: str = "", origin: str = ORIGIN) -> dict[str, str]:
    asked = {"origin": origin, "access-control-request-method": method}
    if headers:
        asked["access-control-request-headers"] = headers
    return asked


def _app(calls: list[str], **options: Any) -> App:
    app = App()
    app.enable_cors(**options)

    @app.post("/orders")
    def create() -> dict[str, bool]:
        calls.append("post")
        return {"created": True}

    @app.options("/with-options")
    def options_handler() -> str:
        calls.append("options handler")
        return "mine"

    return app


def test_browser_preflight_to_a_post_only_route(client_for: Client) -> None:
    """What Chrome sends before a cross-origin JSON POST with an auth header."""
    calls: list[str] = []
    client = client_for(_app(calls, allow_origins=[ORIGIN], allow_headers=["Authorization"]))
    response = client.options(
        "/orders",
        headers={
            **_preflight("POST", "authorization,content-type"),
            "accept": "*/*",
            "sec-fetch-mode": "cors",
            "user-agent": "Mozilla/5.0",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"] == "Origin"
    assert calls == []  # a preflight never reaches a handler
    real = client.post("/orders", headers={"origin": ORIGIN, "authorization": "Bearer x"})
    assert real.json() == {"created": True}
    assert real.headers["access-control-allow-origin"] == ORIGIN


def test_preflight_for_any_path_and_never_the_handler(client_for: Client) -> None:
    calls: list[str] = []
    client = client_for(_app(calls))
    for path in ("/with-options", "/unknown", "/orders"):
        response = client.options(path, headers=_preflight("DELETE"))
        assert response.status_code == 204, path
        assert response.headers["access-control-allow-origin"] == "*"
    assert calls == []
    # OPTIONS without Access-Control-Request-Method is no preflight: routing answers it
    assert client.options("/with-options", headers={"origin": ORIGIN}).text == "mine"
    assert client.options("/orders").status_code == 405


def test_disallowed_origin_gets_no_cors_headers(client_for: Client) -> None:
    calls: list[str] = []
    client = client_for(_app(calls, allow_origins=[ORIGIN]))
    evil = "https://evil.example"
    response = client.post("/orders", headers={"origin": evil})
    assert response.status_code == 200  # CORS is the browser's to enforce
    assert not any(k.startswith("access-control-") for k in response.headers)
    assert response.headers["vary"] == "Origin"
    refused = client.options("/orders", headers=_preflight(origin=evil))
    assert refused.status_code == 400
    assert refused.json() == {"detail": "CORS preflight refused: origin not allowed"}
    assert not any(k.startswith("access-control-") for k in refused.headers)


def test_credentials_never_with_a_wildcard(client_for: Client) -> None:
    calls: list[str] = []
    client = client_for(_app(calls, allow_origins="*", allow_credentials=True))
    response = client.post("/orders", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    preflight = client.options("/orders", headers=_preflight())
    assert preflight.headers["access-control-allow-origin"] == ORIGIN


def test_wildcard_without_credentials_answers_star(client_for: Client) -> None:
    client = client_for(_app([]))
    response = client.post("/orders", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


def test_regex_methods_headers_expose(client_for: Client) -> None:
    client = client_for(
        _app(
            [],
            allow_origins=[],
            allow_origin_regex=r"https://[a-z]+\.example\.org",
            allow_methods=["GET", "POST"],
            allow_headers=["x-token"],
            expose_headers=["x-total"],
            max_age=60,
        )
    )
    ok = client.options("/orders", headers=_preflight(origin="https://shop.example.org"))
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-methods"] == "GET, POST"
    assert ok.headers["access-control-max-age"] == "60"
    assert (
        client.options("/orders", headers=_preflight(origin="https://a.b.example.org")).status_code
        == 400
    )
    assert (
        client.options(
            "/orders", headers=_preflight("PUT", origin="https://shop.example.org")
        ).status_code
        == 400
    )
    refused = client.options(
        "/orders", headers=_preflight("POST", "x-other", "https://shop.example.org")
    )
    assert refused.json()["detail"] == "CORS preflight refused: header(s) x-other not allowed"
    fine = client.options(
        "/orders", headers=_preflight("POST", "X-Token, Content-Type", "https://shop.example.org")
    )
    assert fine.status_code == 204
    real = client.post("/orders", headers={"origin": "https://shop.example.org"})
    assert real.headers["access-control-expose-headers"] == "x-total"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": "https://a.example"}, "list of strings"),
        ({"allow_origins": ["https://a.example/"]}, "not an origin"),
        ({"allow_origins": ["a.example"]}, "not an origin"),
        ({"allow_methods": ["FETCH"]}, "unknown method"),
        ({"allow_headers": ["bad header"]}, "not a header name"),
        ({"expose_headers": ["*"]}, "name the headers"),
        ({"max_age": -1}, "max_age"),
        ({"allow_origin_regex": "("}, "allow_origin_regex"),
        ({"allow_credentials": "yes"}, "allow_credentials"),
    ],
)
def test_configuration_mistakes_raise(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App().enable_cors(**options)


def test_headers_the_handler_set_are_merged_or_replaced(client_for: Client) -> None:
    app = App()
    app.enable_cors([ORIGIN])

    @app.get("/own")
    def own() -> Any:
        from ambi import Response

        return Response(
            "ok", headers={"vary": "Accept-Encoding", "access-control-allow-origin": "https://x.y"}
        )

    response = client_for(app).get("/own", headers={"origin": ORIGIN})
    assert response.headers["vary"] == "Accept-Encoding, Origin"
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_many_allowed_origins_each_get_their_own_answer(client_for: Client) -> None:
    """The answers of allowed origins are kept up to a bound: past it (and for refused
    origins, never kept) every origin is still answered as its own."""
    client = client_for(
        _app([], allow_origins=[], allow_origin_regex=r"https://[a-z]+\.example\.org")
    )
    names = [f"shop{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(80)]
    for name in [*names, *names[:3]]:
        origin = f"https://{name}.example.org"
        response = client.post("/orders", headers={"origin": origin})
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["vary"] == "Origin"
    refused = client.post("/orders", headers={"origin": "https://a.b.example.org"})
    assert "access-control-allow-origin" not in refused.headers
