"""`@cache` under a route decorator: what is a hit, what is stored, who gets an entry.

Every test runs over ASGI and RSGI and, where it defines handlers, over `def` and
`async def` handlers (`make_handler`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from ambi import (
    App,
    ConfigurationError,
    Depends,
    Header,
    HTTPException,
    Request,
    Response,
    StreamingResponse,
    cache,
    invalidate,
)
from ambi._signature import register_injectable
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


class Counter:
    """Counts handler runs (and, injected as an argument, parameter extractions)."""

    def __init__(self) -> None:
        self.runs = 0
        self.extractions = 0

    def run(self) -> int:
        self.runs += 1
        return self.runs


class Extracted:
    """A handler argument whose factory runs during parameter extraction."""


def _counted_route(app: App, make_handler: MakeHandler, counter: Counter, **options: Any) -> None:
    def extracted(request: Request) -> Extracted:
        counter.extractions += 1
        return Extracted()

    register_injectable(Extracted, extracted)

    def items(marker: Extracted, limit: int = 10, tag: list[str] | None = None) -> Any:
        return {"run": counter.run(), "limit": limit, "tag": tag}

    app.get("/items")(cache(**options)(make_handler(items)))


def test_a_hit_runs_neither_validation_nor_the_handler(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()
    _counted_route(app, make_handler, counter, ttl=60)
    client = client_for(app)
    first = client.get("/items?limit=3")
    assert first.json() == {"run": 1, "limit": 3, "tag": None}
    assert (counter.runs, counter.extractions) == (1, 1)
    for _ in range(3):
        again = client.get("/items?limit=3")
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
    assert (counter.runs, counter.extractions) == (1, 1)
    assert client.get("/items?limit=4").json()["run"] == 2
    assert client.get("/items?limit=nope").status_code == 422  # not stored either
    assert client.get("/items?limit=nope").status_code == 422
    assert counter.extractions == 4


def test_the_query_is_keyed_in_any_order_but_repeats_keep_theirs(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()
    _counted_route(app, make_handler, counter, ttl=60)
    client = client_for(app)
    first = client.get("/items?limit=3&tag=a&tag=b").json()
    assert client.get("/items?tag=a&limit=3&tag=b").json() == first
    assert client.get("/items?tag=a&tag=b&limit=3").json() == first
    assert counter.runs == 1
    swapped = client.get("/items?tag=b&tag=a&limit=3").json()
    assert swapped["tag"] == ["b", "a"]
    assert client.get("/items?limit=3&tag=a%20b").json()["tag"] == ["a b"]
    assert client.get("/items?tag=a+b&limit=3").json()["run"] == 3  # same values: a hit
    assert counter.runs == 3


def test_vary_headers_are_part_of_the_key(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()

    def greet(request: Request) -> Any:
        return {"lang": request.headers.get("accept-language"), "run": counter.run()}

    app.get("/greet")(cache(ttl=60, vary=["Accept-Language"])(make_handler(greet)))
    client = client_for(app)
    fr = client.get("/greet", headers={"accept-language": "fr"})
    assert fr.json() == {"lang": "fr", "run": 1}
    assert fr.headers["vary"] == "Accept-Language, Authorization, Cookie"
    assert client.get("/greet", headers={"accept-language": "en"}).json()["run"] == 2
    assert client.get("/greet", headers={"accept-language": "fr"}).json()["run"] == 1
    assert client.get("/greet").json() == {"lang": None, "run": 3}

    def declared() -> Any:
        return Response(str(counter.run()), headers={"vary": "accept-language, Cookie"})

    app.get("/declared")(cache(ttl=60, vary=["accept-language"])(make_handler(declared)))
    assert client.get("/declared").text == client.get("/declared").text  # stored
    assert client.get("/declared").headers["vary"] == "Accept-Language, Authorization, Cookie"


def _whoami(counter: Counter) -> Callable[..., Any]:
    def whoami(request: Request) -> Any:
        user = request.headers.get("authorization") or request.cookies.get("user") or "anon"
        return {"user": user, "run": counter.run()}

    return whoami


def test_requests_with_credentials_never_get_a_shared_entry(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()
    app.get("/whoami")(cache(ttl=60)(make_handler(_whoami(counter))))
    client = client_for(app)
    assert client.get("/whoami").json() == {"user": "anon", "run": 1}
    alice = client.get("/whoami", headers={"authorization": "Bearer alice"})
    bob = client.get("/whoami", headers={"authorization": "Bearer bob"})
    carol = client.get("/whoami", headers={"cookie": "user=carol"})
    assert [r.json()["user"] for r in (alice, bob, carol)] == [
        "Bearer alice",
        "Bearer bob",
        "carol",
    ]
    assert "etag" not in alice.headers
    assert "cache-control" not in alice.headers
    assert client.get("/whoami", headers={"authorization": "Bearer alice"}).json()["run"] == 5
    assert client.get("/whoami").json() == {"user": "anon", "run": 1}


def test_private_entries_are_keyed_by_credential(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()
    app.get("/whoami")(cache(ttl=60, private=True)(make_handler(_whoami(counter))))
    client = client_for(app)
    alice = {"authorization": "Bearer alice"}
    bob = {"authorization": "Bearer bob"}
    first = client.get("/whoami", headers=alice)
    assert first.json() == {"user": "Bearer alice", "run": 1}
    assert first.headers["cache-control"].startswith("private, max-age=")
    assert client.get("/whoami", headers=bob).json() == {"user": "Bearer bob", "run": 2}
    assert client.get("/whoami", headers=alice).json() == {"user": "Bearer alice", "run": 1}
    assert client.get("/whoami", headers=bob).json() == {"user": "Bearer bob", "run": 2}
    carol = client.get("/whoami", headers={"cookie": "user=carol"}).json()
    assert carol == {"user": "carol", "run": 3}
    assert client.get("/whoami").json() == {"user": "anon", "run": 4}


def test_etag_and_not_modified(app: App, client_for: ClientFor, make_handler: MakeHandler) -> None:
    app.get("/doc")(cache(ttl=60)(make_handler(lambda: {"text": "hello"})))
    client = client_for(app)
    for _ in range(2):  # the miss and the hit both answer If-None-Match
        fresh = client.get("/doc", headers={"if-none-match": '"nope"'})
        assert fresh.status_code == 200
    etag = fresh.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get("/doc", headers={"if-none-match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"].startswith("max-age=")
        assert "content-type" not in response.headers


def test_a_cold_request_with_a_matching_etag_gets_304(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    app.get("/doc")(cache(ttl=60)(make_handler(lambda: {"text": "hello"})))
    etag = client_for(app).get("/doc").headers["etag"]
    other = App()
    other.get("/doc")(cache(ttl=60)(make_handler(lambda: {"text": "hello"})))
    assert client_for(other).get("/doc", headers={"if-none-match": etag}).status_code == 304


def test_cache_control_max_age(app: App, client_for: ClientFor, make_handler: MakeHandler) -> None:
    app.get("/a")(cache(ttl=120)(make_handler(lambda: "a")))
    app.get("/b")(cache(ttl=120, max_age=0)(make_handler(lambda: "b")))

    def own() -> Any:
        return Response("c", headers={"Cache-Control": "public, max-age=5"})

    app.get("/c")(cache(ttl=120)(make_handler(own)))
    client = client_for(app)
    assert client.get("/a").headers["cache-control"] == "max-age=120"
    assert client.get("/b").headers["cache-control"] == "max-age=0"
    for _ in range(2):
        assert client.get("/c").headers["cache-control"] == "public, max-age=5"


def test_head_shares_the_get_entry(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()
    app.get("/r")(cache(ttl=60)(make_handler(lambda: {"run": counter.run()})))
    client = client_for(app)
    head = client.head("/r")
    assert head.status_code == 200
    assert head.content == b""
    assert client.get("/r").json() == {"run": 1}
    assert client.head("/r").headers["content-length"] == head.headers["content-length"]
    assert counter.runs == 1


def test_only_get_and_head_are_cached(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()
    app.route("/r", methods=["GET", "POST"])(
        cache(ttl=60)(make_handler(lambda: {"run": counter.run()}))
    )
    client = client_for(app)
    assert client.post("/r").json() == {"run": 1}
    assert client.post("/r").json() == {"run": 2}
    assert "etag" not in client.post("/r").headers
    assert client.get("/r").json() == {"run": 4}
    assert client.get("/r").json() == {"run": 4}


def test_what_is_not_stored(app: App, client_for: ClientFor, make_handler: MakeHandler) -> None:
    counter = Counter()

    def missing() -> Any:
        counter.run()
        raise HTTPException(404, "no such thing")

    def cookie() -> Any:
        response = Response(str(counter.run()))
        response.set_cookie("seen", "1")
        return response

    def no_store() -> Any:
        return Response(str(counter.run()), headers={"cache-control": "no-store"})

    def private() -> Any:
        return Response(str(counter.run()), headers={"cache-control": "private"})

    def vary_all() -> Any:
        return Response(str(counter.run()), headers={"vary": "*"})

    def vary_other() -> Any:
        return Response(str(counter.run()), headers={"vary": "Accept-Encoding"})

    def created() -> Any:
        return {"run": counter.run()}, 201

    def streamed() -> Any:
        return StreamingResponse(iter([str(counter.run())]))

    routes = {
        "/missing": missing,
        "/cookie": cookie,
        "/no-store": no_store,
        "/private": private,
        "/vary-all": vary_all,
        "/vary-other": vary_other,
        "/created": created,
        "/streamed": streamed,
    }
    for path, handler in routes.items():
        app.get(path)(cache(ttl=60)(make_handler(handler)))
    client = client_for(app)
    for path in routes:
        before = counter.runs
        client.get(path)
        client.get(path)
        assert counter.runs == before + 2, path


def test_a_failing_handler_is_not_cached(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()

    def flaky() -> Any:
        if counter.run() == 1:
            raise RuntimeError("boom")
        return {"ok": counter.runs}

    app.get("/flaky")(cache(ttl=60)(make_handler(flaky)))
    client = client_for(app, raise_server_exceptions=False)
    assert client.get("/flaky").status_code == 500
    assert client.get("/flaky").json() == {"ok": 2}
    assert client.get("/flaky").json() == {"ok": 2}


def test_a_custom_key_names_the_entry(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()

    def page(request: Request) -> Any:
        return {"run": counter.run()}

    app.get("/page")(cache(ttl=60, key=lambda request: "the-page")(make_handler(page)))
    client = client_for(app)
    assert client.get("/page?utm=1").json() == {"run": 1}
    assert client.get("/page?utm=2").json() == {"run": 1}  # the key ignores the query
    assert invalidate(key="the-page") >= 1  # (other apps alive in this process count too)
    assert client.get("/page").json() == {"run": 2}


def test_the_signature_stays_visible(app: App, client_for: ClientFor) -> None:
    @app.get("/search")
    @cache(ttl=60)
    async def search(q: str, limit: int = 10) -> dict[str, Any]:
        """Search the catalogue."""
        return {"q": q, "limit": limit}

    assert list(inspect.signature(search).parameters) == ["q", "limit"]
    assert search.__name__ == "search"
    document = client_for(app).get("/openapi.json").json()
    operation = document["paths"]["/search"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["q", "limit"]
    assert operation["summary"] == "Search"  # FastAPI's: the name; the docstring describes
    assert operation["description"] == "Search the catalogue."
    assert client_for(app).get("/search").status_code == 422


def test_a_cached_handler_still_answers_direct_calls() -> None:
    @cache(ttl=60)
    def handler(request: Request) -> dict[str, int]:
        return {"direct": 1}

    assert handler(None) == {"direct": 1}  # type: ignore[arg-type]


@pytest.mark.parametrize("ttl", [0, -5, "60", True])
def test_bad_ttl_fails_at_decoration(ttl: Any) -> None:
    with pytest.raises(ConfigurationError, match="ttl"):
        cache(ttl=ttl)(lambda: None)


def test_declared_header_parameters_are_part_of_the_key(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    counter = Counter()

    def api_key(x_api_key: str = Header("anonymous")) -> str:
        return x_api_key

    def report(key: str = Depends(api_key)) -> Any:
        return {"for": key, "run": counter.run()}

    app.get("/report")(cache(ttl=60)(make_handler(report)))
    client = client_for(app)
    assert client.get("/report", headers={"x-api-key": "k1"}).json() == {"for": "k1", "run": 1}
    assert client.get("/report", headers={"x-api-key": "k2"}).json() == {"for": "k2", "run": 2}
    assert client.get("/report").json() == {"for": "anonymous", "run": 3}
    response = client.get("/report", headers={"x-api-key": "k1"})
    assert response.json() == {"for": "k1", "run": 1}
    assert response.headers["vary"] == "X-Api-Key, Authorization, Cookie"


def test_cache_on_a_route_reading_a_body_fails_at_startup() -> None:
    app = App()

    @app.get("/search")
    @cache(ttl=60)
    def search(query: dict[str, Any]) -> Any:
        return query

    with pytest.raises(ConfigurationError, match="body"):
        app.freeze()
