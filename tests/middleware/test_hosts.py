"""Trusted hosts, proxy headers, HTTPS redirect and security headers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, ConfigurationError, Request
from ambi.middleware._hosts import ProxyHeaders, host_name
from ambi.testing import TestClient

Client = Callable[..., TestClient]


def _echo_app() -> App:
    app = App()

    @app.get("/where")
    def where(request: Request) -> dict[str, Any]:
        return {"client": request.client, "scheme": request.scheme, "url": str(request.url)}

    return app


def test_trusted_hosts(client_for: Client) -> None:
    app = _echo_app()
    app.enable_trusted_hosts(["testserver", "*.example.com", "[::1]"])
    client = client_for(app)
    assert client.get("/where").status_code == 200
    for host in ("api.example.com", "a.b.example.com:8443", "[::1]:8000", "TESTSERVER"):
        assert client.get("/where", headers={"host": host}).status_code == 200, host
    for host in ("example.com", "evil.com", "testserver.evil.com", "example.com.evil"):
        response = client.get("/where", headers={"host": host})
        assert response.status_code == 400, host
        assert response.json() == {"detail": "Invalid host header"}


def test_trusted_hosts_mistakes() -> None:
    for hosts in (["bad/host"], ["a*.example.com"], ["*.*.com"], [], "example.com", ["h:80"]):
        with pytest.raises(ConfigurationError):
            App().enable_trusted_hosts(hosts)  # type: ignore[arg-type]


def test_host_name() -> None:
    assert host_name("Example.COM:8000") == "example.com"
    assert host_name("[::1]:80") == "[::1]"
    assert host_name("localhost") == "localhost"


def test_proxy_headers_from_a_trusted_peer(client_for: Client) -> None:
    app = _echo_app()
    app.enable_proxy_headers(trusted=["*"])
    client = client_for(app)
    answer = client.get(
        "/where", headers={"x-forwarded-for": "203.0.113.9, 10.0.0.2", "x-forwarded-proto": "https"}
    ).json()
    assert answer["client"] == ["203.0.113.9", 0]  # "*" trusts every hop: the first is the client
    assert answer["scheme"] == "https"
    assert answer["url"].startswith("https://testserver/")
    assert client.get("/where", headers={"x-forwarded-proto": "gopher"}).json()["scheme"] == "http"


def _request(app: App, peer: str, headers: list[tuple[str, str]]) -> Request:
    return Request(app, "GET", "/", "", headers, client=(peer, 5000))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # trusted hops skipped
        ("10.0.0.1", "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # not spoofable
        ("192.0.2.50", "203.0.113.9", "192.0.2.50"),  # untrusted peer: header ignored
        ("10.0.0.1", "10.0.0.5, 10.0.0.7", "10.0.0.5"),  # all trusted: the first
    ],
)
def test_proxy_headers_walk(peer: str, forwarded: str, expected: str) -> None:
    app = App()
    config = ProxyHeaders(["10.0.0.0/8", "::1"])
    seen: list[Request] = []

    async def after(request: Request) -> Any:
        seen.append(request)
        return None

    layer = config.layer(app, after)
    request = _request(app, peer, [("x-forwarded-for", forwarded), ("x-forwarded-proto", "https")])
    asyncio.run(layer(request))
    assert seen[0].client is not None
    assert seen[0].client[0] == expected
    assert seen[0].scheme == ("https" if peer.startswith("10.") else "http")


def test_proxy_headers_mistakes() -> None:
    with pytest.raises(ConfigurationError, match="IP address"):
        App().enable_proxy_headers(trusted=["proxy.local"])
    with pytest.raises(ConfigurationError, match="trusted"):
        App().enable_proxy_headers(trusted=[])


def test_https_redirect(client_for: Client) -> None:
    app = _echo_app()
    app.enable_https_redirect()
    client = client_for(app)
    response = client.get("/where?a=1&b=%20", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://testserver/where?a=1&b=%20"
    moved = client.get("http://testserver:8080/where", follow_redirects=False)
    assert moved.headers["location"] == "https://testserver:8080/where"
    secure = client.get("https://testserver/where")
    assert secure.json()["scheme"] == "https"
    with pytest.raises(ConfigurationError):
        App().enable_https_redirect(200)


def test_https_redirect_behind_a_proxy(client_for: Client) -> None:
    app = _echo_app()
    app.enable_https_redirect(308)
    app.enable_proxy_headers(trusted=["*"])  # runs first, whatever the order of the calls
    client = client_for(app)
    assert client.get("/where", headers={"x-forwarded-proto": "https"}).status_code == 200
    assert client.get("/where", follow_redirects=False).status_code == 308


def test_security_headers(client_for: Client) -> None:
    app = _echo_app()
    app.enable_security_headers(content_security_policy="default-src 'self'")

    @app.get("/framed")
    def framed() -> Any:
        from ambi import Response

        return Response("ok", headers={"x-frame-options": "SAMEORIGIN"})

    client = client_for(app)
    plain = client.get("/where").headers
    assert plain["x-content-type-options"] == "nosniff"
    assert plain["x-frame-options"] == "DENY"
    assert plain["referrer-policy"] == "strict-origin-when-cross-origin"
    assert plain["content-security-policy"] == "default-src 'self'"
    assert "strict-transport-security" not in plain  # plain HTTP: browsers ignore it
    secure = client.get("https://testserver/where").headers
    assert secure["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert client.get("/framed").headers["x-frame-options"] == "SAMEORIGIN"  # not overridden
    assert client.get("/missing").headers["x-content-type-options"] == "nosniff"


def test_security_headers_options_and_mistakes(client_for: Client) -> None:
    app = _echo_app()
    app.enable_security_headers(
        hsts_max_age=63072000, hsts_preload=True, frame_options=None, referrer_policy="no-referrer"
    )
    headers = client_for(app).get("https://testserver/where").headers
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains; preload"
    assert "x-frame-options" not in headers
    assert headers["referrer-policy"] == "no-referrer"
    for options in (
        {"frame_options": "ALLOW"},
        {"referrer_policy": "sometimes"},
        {"hsts_max_age": -5},
        {"hsts_preload": True, "hsts_max_age": 60},
        {"hsts_preload": True, "hsts_max_age": None},
        {"content_security_policy": "a\nb"},
    ):
        with pytest.raises(ConfigurationError):
            App().enable_security_headers(**options)  # type: ignore[arg-type]
