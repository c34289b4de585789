"""`app.enable_sessions`: signed-cookie and server-side sessions, over ASGI and RSGI and over
`def` and `async def` handlers."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ambi import App, ConfigurationError, Request, StoreError, cache
from ambi.sessions import Session, SessionLayer
from ambi.stores import MemoryStore, RedisStore, Store
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]
SECRET = "a-test-secret-of-enough-length"


def _set_cookie(response: Any, name: str = "session") -> dict[str, Any] | None:
    """The attributes of the `Set-Cookie` for `name`, or None when there is none."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            return {"value": morsel.value, **{k: v for k, v in morsel.items() if v}}
    return None


def _session_app(make_handler: MakeHandler, **options: Any) -> App:
    app = App()
    app.enable_sessions(SECRET, **options)

    def login(request: Request, user: str) -> Any:
        request.session.regenerate()
        request.session["user"] = user
        return {"user": user}

    def me(request: Request) -> Any:
        return {"user": request.session.get("user"), "id": request.session.id}

    def count(request: Request) -> Any:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    def logout(request: Request) -> Any:
        request.session.clear()
        return {"user": None}

    def untouched() -> Any:
        return {"ok": True}

    def bad(request: Request) -> Any:
        request.session["when"] = object()
        return {}

    def big(request: Request) -> Any:
        request.session["blob"] = secrets.token_urlsafe(4000)  # compresses badly
        return {}

    app.post("/login")(make_handler(login))
    app.get("/me")(make_handler(me))
    app.post("/count")(make_handler(count))
    app.post("/logout")(make_handler(logout))
    app.get("/untouched")(make_handler(untouched))
    app.post("/bad")(make_handler(bad))
    app.post("/big")(make_handler(big))
    return app


@pytest.fixture(params=["cookie", "memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Store | None]:
    """Where sessions are kept: in the cookie, or in a store."""
    if request.param == "cookie":
        yield None
    elif request.param == "memory":
        yield MemoryStore()
    else:
        url = request.getfixturevalue("redis_url")
        store = RedisStore(url, prefix=f"ambi-test:{uuid.uuid4().hex}:", timeout=5)
        yield store
        await store.clear()
        await store.close()


def test_a_session_survives_across_requests(
    client_for: ClientFor, make_handler: MakeHandler, backend: Store | None
) -> None:
    client = client_for(_session_app(make_handler, store=backend))
    assert client.get("/me").json()["user"] is None
    login = client.post("/login?user=ada")
    cookie = _set_cookie(login)
    assert cookie is not None
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(14 * 24 * 3600)
    assert "secure" not in cookie  # http: Secure follows the request's scheme by default
    me = client.get("/me")
    assert me.json()["user"] == "ada"
    assert _set_cookie(me) is None  # read, not changed: not saved again
    assert "cookie" in me.headers["vary"].lower()
    assert [client.post("/count").json()["n"] for _ in range(3)] == [1, 2, 3]
    if backend is not None:
        assert "ada" not in cookie["value"]  # only an id in the cookie
        assert me.json()["id"] is not None


def test_regenerate_changes_the_id_and_drops_the_old_one(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    store = MemoryStore()
    client = client_for(_session_app(make_handler, store=store))
    client.post("/count")
    first = client.get("/me").json()["id"]
    old_cookie = client.cookies["session"]
    client.post("/login?user=ada")
    second = client.get("/me").json()
    assert second["user"] == "ada"
    assert second["id"] != first
    assert store.get_now(f"session:{first}") is None
    client.cookies.set("session", old_cookie)  # the fixated id is worth nothing now
    assert client.get("/me").json()["user"] is None


def test_clear_deletes_the_cookie_and_the_stored_values(
    client_for: ClientFor, make_handler: MakeHandler, backend: Store | None
) -> None:
    client = client_for(_session_app(make_handler, store=backend))
    client.post("/login?user=ada")
    session_id = client.get("/me").json()["id"]
    logout = client.post("/logout")
    cookie = _set_cookie(logout)
    assert cookie is not None
    assert cookie["max-age"] == "0"
    assert client.get("/me").json()["user"] is None
    if isinstance(backend, MemoryStore):
        assert backend.get_now(f"session:{session_id}") is None


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "",
        "eyJ1c2VyIjoiYWRhIn0.AAAA.BBBB",
        "x" * 5000,
        "\u00e9t\u00e9",
        '"quoted"',
    ],
)
def test_a_tampered_cookie_is_an_empty_session(
    client_for: ClientFor, make_handler: MakeHandler, backend: Store | None, value: str
) -> None:
    client = client_for(_session_app(make_handler, store=backend))
    cookie = f"session={value}".encode("latin-1")
    response = client.get("/me", headers={"cookie": cookie})
    assert response.status_code == 200
    assert response.json()["user"] is None


def test_a_cookie_signed_with_another_key_is_refused(
    client_for: ClientFor, make_handler: MakeHandler, backend: Store | None
) -> None:
    ours = client_for(_session_app(make_handler, store=backend))
    theirs = App()
    theirs.enable_sessions("another-secret-of-enough-length", store=backend)
    theirs.post("/login")(_session_app(make_handler).routes[0].endpoint)
    forged = client_for(theirs).post("/login?user=root").cookies["session"]
    assert ours.get("/me", headers={"cookie": f"session={forged}"}).json()["user"] is None
    edited = ours.post("/login?user=ada").cookies["session"]
    flipped = edited[:-2] + ("A" if edited[-2] != "A" else "B") + edited[-1]
    assert ours.get("/me", headers={"cookie": f"session={flipped}"}).json()["user"] is None


def test_an_expired_cookie_session_is_empty(
    client_for: ClientFor, make_handler: MakeHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(_session_app(make_handler, max_age=60))
    client.post("/login?user=ada")
    assert client.get("/me").json()["user"] == "ada"

    class Later:
        @staticmethod
        def time() -> float:
            import time

            return time.time() + 120

    monkeypatch.setattr("itsdangerous.timed.time", Later)
    assert client.get("/me").json()["user"] is None


def test_cookie_flags(client_for: ClientFor, make_handler: MakeHandler) -> None:
    app = _session_app(
        make_handler,
        cookie_name="sid",
        secure=True,
        samesite="strict",
        httponly=False,
        max_age=None,
        path="/",
        domain="testserver.local",
    )
    response = client_for(app).post("/login?user=ada")
    cookie = _set_cookie(response, "sid")
    assert cookie is not None
    assert cookie["secure"] is True
    assert cookie["samesite"] == "strict"
    assert cookie["domain"] == "testserver.local"
    assert "httponly" not in cookie
    assert "max-age" not in cookie


def test_secure_follows_https(interface: str, make_handler: MakeHandler) -> None:
    app = _session_app(make_handler)
    with TestClient(app, interface=interface, base_url="https://testserver") as client:  # type: ignore[arg-type]
        cookie = _set_cookie(client.post("/login?user=ada"))
    assert cookie is not None
    assert cookie["secure"] is True


def test_an_untouched_session_costs_no_cookie(
    client_for: ClientFor, make_handler: MakeHandler, backend: Store | None
) -> None:
    client = client_for(_session_app(make_handler, store=backend))
    client.post("/login?user=ada")
    response = client.get("/untouched")
    assert _set_cookie(response) is None
    assert "vary" not in response.headers


def test_values_that_cannot_be_saved_answer_500(
    client_for: ClientFor,
    make_handler: MakeHandler,
    backend: Store | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = client_for(_session_app(make_handler, store=backend))
    caplog.set_level(logging.ERROR, "ambi.sessions")
    response = client.post("/bad")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "cannot save the session" in caplog.text
    if backend is None:
        assert client.post("/big").status_code == 500
        assert "more than browsers keep" in caplog.text


class _DownStore(MemoryStore):
    async def get(self, key: str) -> bytes | None:
        raise StoreError("down")

    async def set(self, *args: Any, **kwargs: Any) -> bool:
        raise StoreError("down")


def test_a_store_that_is_down_answers_503_only_where_the_session_is_used(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    working = MemoryStore()
    up = client_for(_session_app(make_handler, store=working))
    up.post("/login?user=ada")
    cookie = up.cookies["session"]
    down = client_for(_session_app(make_handler, store=_DownStore()))
    headers = {"cookie": f"session={cookie}"}
    assert down.get("/untouched", headers=headers).status_code == 200
    assert down.get("/me", headers=headers).status_code == 503
    assert down.post("/count").status_code == 503  # saving fails


def test_cached_routes_and_sessions(client_for: ClientFor, make_handler: MakeHandler) -> None:
    app = App()
    app.enable_sessions(SECRET)
    runs: list[int] = []

    def visit(request: Request) -> Any:
        runs.append(1)
        request.session["visited"] = True
        return {"runs": len(runs)}

    def page() -> Any:
        runs.append(1)
        return {"runs": len(runs)}

    app.get("/visit")(cache(ttl=60)(make_handler(visit)))
    app.get("/page")(cache(ttl=60)(make_handler(page)))
    client = client_for(app)
    assert client.get("/visit").json() == {"runs": 1}
    assert "session" in client.cookies
    client.cookies.clear()
    assert client.get("/visit").json() == {"runs": 2}  # changed the session: not stored
    client.cookies.clear()
    assert client.get("/page").json() == {"runs": 3}
    assert client.get("/page").json() == {"runs": 3}
    assert _set_cookie(client.get("/page")) is None


def test_request_session_needs_sessions(client_for: ClientFor) -> None:
    app = App()
    app.get("/s")(lambda request: dict(request.session))
    assert client_for(app, raise_server_exceptions=False).get("/s").status_code == 500


@pytest.mark.parametrize(
    ("secret", "options", "message"),
    [
        ("short", {}, "at least 16"),
        (SECRET, {"samesite": "none"}, "secure=True"),
        (SECRET, {"samesite": "sometimes"}, "samesite"),
        (SECRET, {"max_age": 0}, "max_age"),
        (SECRET, {"cookie_name": "bad name"}, "cookie name"),
        (SECRET, {"store": "memory://", "max_age": None}, "need max_age"),
        (SECRET, {"store": "nowhere://"}, "unknown store URL"),
    ],
)
def test_bad_session_options_fail_at_configuration(
    secret: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App().enable_sessions(secret, **options)


def test_sessions_are_enabled_once() -> None:
    app = App()
    app.enable_sessions(SECRET)
    with pytest.raises(ConfigurationError, match="already"):
        app.enable_sessions(SECRET)


def test_the_session_mapping() -> None:
    session = Session(loader=lambda: {"a": 1})
    assert not session.accessed
    assert repr(session) == "<Session <not loaded>>"
    assert session["a"] == 1
    assert session.accessed
    assert not session.modified
    assert "a" in session
    assert len(session) == 1
    assert list(session) == ["a"]
    session.clear()
    assert session.modified
    assert session.pop("missing", None) is None
    session.update(b=2)
    del session["b"]
    assert dict(session) == {}
    assert "modified" in repr(session)


def test_a_session_store_url_that_is_down(client_for: ClientFor, make_handler: MakeHandler) -> None:
    client = client_for(_session_app(make_handler, store="redis://127.0.0.1:1/0?timeout=0.2"))
    assert client.get("/me").json()["user"] is None  # no cookie: nothing to load
    assert client.post("/count").status_code == 503


_LAYERS = {
    "cookie": SessionLayer(lambda request: None, SECRET, {}),  # type: ignore[arg-type, return-value]
    "store": SessionLayer(lambda request: None, SECRET, {"store": MemoryStore()}),  # type: ignore[arg-type, return-value]
}


@given(value=st.text(st.characters(min_codepoint=32, max_codepoint=255)))
async def test_any_cookie_value_opens_as_a_session(value: str) -> None:
    for layer in _LAYERS.values():
        session = await layer.backend.open(value)
        assert isinstance(dict(session), dict)
