"""Rate limits on an app, its routes and routers: 429 with Retry-After over the limit,
the remaining budget on every response, exempt paths, keys by client address (trusted
proxies only), by a sync or async key function."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ambi import App, ConfigurationError, HTTPException, RateLimitConfig, Request, Router
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def test_over_the_limit_is_429_with_headers(client_for: ClientFor) -> None:
    app = App()
    app.enable_rate_limit(RateLimitConfig.fixed_window(3, 3600))
    app.get("/json")(lambda: {"message": "hello"})
    client = client_for(app)
    answers = [client.get("/json") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    for answer in answers:
        assert answer.headers["ratelimit-limit"] == "3"
        reset = int(answer.headers["ratelimit-reset"])
        assert 0 < reset <= 3600
    refused = answers[-1]
    # A 429 also has the X- spellings (same values) and the policy; a 200 has not.
    for name in ("limit", "remaining", "reset"):
        assert refused.headers[f"x-ratelimit-{name}"] == refused.headers[f"ratelimit-{name}"]
    assert refused.headers["ratelimit-policy"] == "3;w=3600"
    assert not {"ratelimit-policy", "x-ratelimit-remaining"} & set(answers[0].headers)
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert refused.json() == {
        "detail": f"Too Many Requests: rate limit 3;w=3600 exceeded, "
        f"retry in {refused.headers['retry-after']} s"
    }
    assert "retry-after" not in answers[0].headers


def test_the_budget_is_shared_by_the_routes_and_errors_carry_it(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app = App()
    app.enable_rate_limit(RateLimitConfig.token_bucket(requests=2, window=60))

    def missing() -> None:
        raise HTTPException(404, "nope")

    app.get("/a")(make_handler(lambda: "a"))
    app.get("/missing")(make_handler(missing))
    client = client_for(app)
    assert client.get("/a").headers["ratelimit-remaining"] == "1"
    error = client.get("/missing")
    assert (error.status_code, error.headers["ratelimit-remaining"]) == (404, "0")
    assert client.get("/a").status_code == 429


def test_exempt_paths_and_prefixes_cost_nothing(client_for: ClientFor) -> None:
    app = App()
    app.enable_rate_limit(
        RateLimitConfig.fixed_window(1, 3600), exempt=["/health", "/static/", "/users/me"]
    )
    app.get("/health")(lambda: "ok")
    app.get("/static/{name}")(lambda name: name)
    app.get("/users/{name}")(lambda name: name)
    client = client_for(app)
    for _ in range(3):
        assert client.get("/health").status_code == 200
        assert client.get("/static/app.js").status_code == 200
        assert client.get("/users/me").status_code == 200
    assert "ratelimit-limit" not in client.get("/health").headers
    stages = {r.definition.path: r.handle == r._core() for r in app.compiled}
    assert stages == {"/health": True, "/static/{name}": True, "/users/{name}": False}
    assert client.get("/users/ada").status_code == 200
    assert client.get("/users/bob").status_code == 429


def test_route_and_router_limits_have_their_own_budgets(client_for: ClientFor) -> None:
    app = App()
    app.get("/free")(lambda: "free")
    app.post("/login", rate_limit=RateLimitConfig.sliding_window(2, 60))(lambda: "in")
    api = Router(prefix="/api", rate_limit=RateLimitConfig.fixed_window(1, 3600))
    api.get("/a")(lambda: "a")
    api.get("/b", rate_limit=RateLimitConfig.fixed_window(5, 3600))(lambda: "b")
    app.include_router(api)
    client = client_for(app)
    assert [client.post("/login").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/api/a").status_code for _ in range(2)] == [200, 429]
    # /api/b counts against the router's limit and its own; the headers show the tighter.
    first = client.get("/api/b")
    assert (first.status_code, first.headers["ratelimit-limit"]) == (200, "1")
    assert client.get("/api/b").status_code == 429
    assert [client.get("/free").status_code for _ in range(5)] == [200] * 5
    assert "ratelimit-limit" not in client.get("/free").headers


def test_keys_by_function_sync_or_async(client_for: ClientFor, make_handler: MakeHandler) -> None:
    def user(request: Request) -> str | None:
        return request.headers.get("x-user")

    app = App()
    app.enable_rate_limit(RateLimitConfig.fixed_window(1, 3600, key=make_handler(user)))
    app.get("/")(lambda: "ok")
    client = client_for(app)
    assert client.get("/", headers={"x-user": "ada"}).status_code == 200
    assert client.get("/", headers={"x-user": "ada"}).status_code == 429
    assert client.get("/", headers={"x-user": "bob"}).status_code == 200
    # No user: the client address is the key.
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429


def _address_app(**options: Any) -> App:
    app = App()
    app.enable_rate_limit(RateLimitConfig.fixed_window(1, 3600, **options))
    app.get("/")(lambda: "ok")
    return app


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client_for: ClientFor) -> None:
    client = client_for(_address_app())
    assert client.get("/", headers={"x-forwarded-for": "1.1.1.1"}).status_code == 200
    # Another spoofed address does not buy another budget.
    assert client.get("/", headers={"x-forwarded-for": "2.2.2.2"}).status_code == 429


def test_x_forwarded_for_from_trusted_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    from ambi.ratelimit._keys import forwarded_client

    key = forwarded_client(
        RateLimitConfig.fixed_window(1, 1, trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies
    )

    def request(peer: str | None, header: str | None = None) -> Any:
        class Fake:
            client = (peer, 1234) if peer else None
            headers = {"x-forwarded-for": header} if header is not None else {}

        return Fake()

    assert key(request("10.1.2.3", "203.0.113.9")) == "203.0.113.9"
    # The client wrote its own header; the proxies appended what they saw.
    assert key(request("10.1.2.3", "6.6.6.6, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"
    assert key(request("::1", "2001:db8::1")) == "2001:db8::1"
    # An untrusted peer's header is not read.
    assert key(request("198.51.100.4", "6.6.6.6")) == "198.51.100.4"
    # Only proxies in the chain: the leftmost; no header: the peer; no peer at all.
    assert key(request("10.0.0.1", "10.0.0.2")) == "10.0.0.2"
    assert key(request("10.0.0.1", "")) == "10.0.0.1"
    assert key(request(None)) == "-"


def test_no_limit_no_stage(client_for: ClientFor) -> None:
    app = App()
    app.get("/")(lambda: "ok")
    client_for(app)
    assert all(route.handle == route._core() for route in app.compiled)


def test_rate_limit_options_are_checked_at_registration() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="takes a RateLimitConfig"):
        app.get("/", rate_limit={"requests": 10})(lambda: "x")
    with pytest.raises(ConfigurationError, match="takes a RateLimitConfig"):
        Router(rate_limit="10/minute")
    with pytest.raises(ConfigurationError, match="takes a RateLimitConfig"):
        app.include_router(Router(), rate_limit=[None])
    with pytest.raises(ConfigurationError, match="takes a RateLimitConfig"):
        app.enable_rate_limit(100)
    with pytest.raises(ConfigurationError, match="list of paths"):
        app.enable_rate_limit(RateLimitConfig.fixed_window(1, 1), exempt="/health")


def test_enable_rate_limit_after_start_is_refused(client_for: ClientFor) -> None:
    app = App()
    client_for(app)
    with pytest.raises(ConfigurationError, match="before the app starts"):
        app.enable_rate_limit(RateLimitConfig.fixed_window(1, 1))


def test_token_bucket_refills_in_real_time(client_for: ClientFor) -> None:
    app = App()
    app.enable_rate_limit(RateLimitConfig.token_bucket(capacity=3, refill_rate=2))
    app.get("/")(lambda: "ok")
    client = client_for(app)
    started = time.monotonic()
    burst = [client.get("/").status_code for _ in range(4)]
    if time.monotonic() - started < 0.5:  # (a machine too busy to send 4 in 0.5 s: skip)
        assert burst == [200, 200, 200, 429]
    emptied = time.monotonic()
    time.sleep(1.1)  # 2.2 tokens
    allowed = sum(client.get("/").status_code == 200 for _ in range(5))
    elapsed = time.monotonic() - emptied
    # At least what 1.1 s refilled, at most what the time that really passed refilled.
    assert 2 <= allowed <= int(elapsed * 2)


def test_an_untrusted_peer_cannot_pick_its_address(client_for: ClientFor) -> None:
    # The test client's peer ("testclient") is not among the trusted proxies.
    client = client_for(_address_app(trusted_proxies=["10.0.0.0/8"]))
    assert client.get("/", headers={"x-forwarded-for": "1.1.1.1"}).status_code == 200
    assert client.get("/", headers={"x-forwarded-for": "2.2.2.2"}).status_code == 429


def test_x_headers_on_every_response_when_asked(client_for: ClientFor) -> None:
    app = App()
    app.enable_rate_limit(RateLimitConfig.sliding_window(2, 60, x_headers=True))
    app.get("/")(lambda: "ok")
    client = client_for(app)
    first = client.get("/")
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == (
        "2",
        "1",
    )
    assert first.headers["x-ratelimit-reset"] == first.headers["ratelimit-reset"] == "61"
