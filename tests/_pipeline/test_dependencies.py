"""Dependencies: every kind of callable, sub-dependencies, caching, one validation for the
whole graph, errors, route/router/app dependencies, overrides; over def/async handlers and
ASGI/RSGI."""

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest

from ambi import App, Depends, Header, HTTPException, Query, Request, Router, SignatureError
from ambi.testing import TestClient

ClientFor = Callable[..., TestClient]
MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]


def plain_value() -> str:
    return "plain"


async def async_value() -> str:
    return "async"


def gen_value() -> Iterator[str]:
    yield "gen"


async def agen_value() -> AsyncIterator[str]:
    yield "agen"


class Settings:
    def __init__(self, debug: bool = False) -> None:
        self.debug = debug


class Multiplier:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, n: int = 1) -> int:
        return n * self.factor


class AsyncCallable:
    async def __call__(self) -> str:
        return "async instance"


def test_every_kind_of_dependency(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def handler(  # noqa: PLR0917 - one argument per kind of dependency
        a: str = Depends(plain_value),
        b: str = Depends(async_value),
        c: str = Depends(gen_value),
        d: str = Depends(agen_value),
        e: Settings = Depends(),
        f: int = Depends(Multiplier(3)),
        g: str = Depends(AsyncCallable()),
    ) -> dict[str, Any]:
        return {"values": [a, b, c, d, e.debug, f, g]}

    app.get("/deps")(make_handler(handler))
    response = client_for(app).get("/deps", params={"debug": "true", "n": 5})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "values": ["plain", "async", "gen", "agen", True, 15, "async instance"]
    }


def test_annotated_depends_and_sub_dependencies_to_any_depth(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def level3(x: int) -> int:
        return x + 1

    async def level2(value: Annotated[int, Depends(level3)]) -> int:
        return value * 10

    def level1(value: Annotated[int, Depends(level2)], request: Request) -> str:
        return f"{request.method}:{value}"

    def handler(result: Annotated[str, Depends(level1)]) -> dict[str, str]:
        return {"result": result}

    app.get("/deep")(make_handler(handler))
    assert client_for(app).get("/deep?x=4").json() == {"result": "GET:50"}


def test_a_dependency_used_twice_runs_once_unless_use_cache_false(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    calls: list[str] = []

    def counted() -> int:
        calls.append("x")
        return len(calls)

    def first(n: int = Depends(counted)) -> int:
        return n

    def second(n: int = Depends(counted)) -> int:
        return n

    def handler(
        a: int = Depends(first),
        b: int = Depends(second),
        c: int = Depends(counted, use_cache=False),
    ) -> list[int]:
        return [a, b, c]

    app.get("/cached")(make_handler(handler))
    client = client_for(app)
    assert client.get("/cached").json() == [1, 1, 2]
    calls.clear()
    assert client.get("/cached").json() == [1, 1, 2]  # per request, not across requests


def test_inputs_of_handler_and_dependencies_are_validated_together(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def token(x_token: Annotated[str, Header(min_length=3)]) -> str:
        return x_token

    def paging(limit: int = Query(10, le=100), offset: int = 0) -> tuple[int, int]:
        return limit, offset

    def handler(
        item_id: int,
        t: str = Depends(token),
        page: tuple[int, int] = Depends(paging),
        q: str = Query(...),
    ) -> dict[str, Any]:
        return {"item_id": item_id, "token": t, "page": list(page), "q": q}

    app.get("/items/{item_id}")(make_handler(handler))
    client = client_for(app)
    ok = client.get("/items/3?limit=5&q=z", headers={"x-token": "abcd"})
    assert ok.json() == {"item_id": 3, "token": "abcd", "page": [5, 0], "q": "z"}
    bad = client.get("/items/x?limit=500", headers={"x-token": "a"})
    assert bad.status_code == 422
    locs = sorted(tuple(e["loc"]) for e in bad.json()["detail"])
    assert locs == [
        ("header", "x-token"),
        ("path", "item_id"),
        ("query", "limit"),
        ("query", "q"),
    ]


def test_two_dependencies_reading_one_key_get_one_value_and_one_error(
    app: App, client_for: ClientFor
) -> None:
    def a(n: int) -> int:
        return n

    async def b(n: int) -> int:
        return n

    @app.get("/same")
    async def handler(x: int = Depends(a), y: int = Depends(b), n: int = 0) -> list[int]:
        return [x, y, n]

    client = client_for(app)
    assert client.get("/same?n=7").json() == [7, 7, 7]
    errors = client.get("/same?n=seven").json()["detail"]
    assert [e["loc"] for e in errors] == [["query", "n"]]


def test_body_read_by_a_dependency_and_the_handler_is_embedded(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    from ambi import BaseModel

    class Item(BaseModel):
        name: str

    class Meta(BaseModel):
        tag: str

    def with_meta(meta: Meta) -> str:
        return meta.tag

    def handler(item: Item, tag: str = Depends(with_meta)) -> dict[str, str]:
        return {"name": item.name, "tag": tag}

    app.post("/embed")(make_handler(handler))
    client = client_for(app)
    ok = client.post("/embed", json={"item": {"name": "a"}, "meta": {"tag": "t"}})
    assert ok.json() == {"name": "a", "tag": "t"}
    missing = client.post("/embed", json={"item": {"name": "a"}})
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", "meta"]]


def test_errors_raised_by_dependencies(app: App, client_for: ClientFor) -> None:
    def forbidden() -> None:
        raise HTTPException(403, "no", headers={"x-why": "test"})

    async def invalid() -> None:
        raise ValueError("Invalid token")

    @app.exception_handler(ValueError)
    def on_value_error(request: Request, exc: ValueError) -> Any:
        return {"error": str(exc)}, 401

    @app.get("/forbidden")
    def a(x: None = Depends(forbidden)) -> str:
        return "unreachable"

    @app.get("/invalid")
    async def b(x: None = Depends(invalid)) -> str:
        return "unreachable"

    client = client_for(app)
    response = client.get("/forbidden")
    assert (response.status_code, response.json(), response.headers["x-why"]) == (
        403,
        {"detail": "no"},
        "test",
    )
    response = client.get("/invalid")
    assert (response.status_code, response.json()) == (401, {"error": "Invalid token"})


def test_app_router_include_and_route_dependencies_run_for_effects_in_order(
    client_for: ClientFor, make_handler: MakeHandler
) -> None:
    seen: list[str] = []

    def mark(name: str) -> Callable[[], str]:
        def dependency() -> str:
            seen.append(name)
            return name

        dependency.__name__ = dependency.__qualname__ = f"mark_{name}"
        return dependency

    app = App(dependencies=[Depends(mark("app"))])
    router = Router(prefix="/r", dependencies=[Depends(mark("router"))])

    def handler(value: str = Depends(mark("param"))) -> dict[str, str]:
        seen.append("handler")
        return {"value": value}

    router.get("/x", dependencies=[Depends(mark("route"))])(make_handler(handler))
    app.include_router(router, dependencies=[Depends(mark("include"))])
    assert client_for(app).get("/r/x").json() == {"value": "param"}
    assert seen == ["app", "include", "router", "route", "param", "handler"]


def test_dependency_overrides_take_effect_on_the_next_request(
    app: App, client_for: ClientFor, make_handler: MakeHandler
) -> None:
    def real_user() -> str:
        return "real"

    def fake_user(name: str = "fake") -> str:
        return name

    def handler(user: str = Depends(real_user)) -> dict[str, str]:
        return {"user": user}

    app.get("/me")(make_handler(handler))
    client = client_for(app)
    assert client.get("/me").json() == {"user": "real"}
    app.dependency_overrides[real_user] = fake_user
    assert client.get("/me?name=bob").json() == {"user": "bob"}
    app.dependency_overrides.clear()
    assert client.get("/me?name=bob").json() == {"user": "real"}


def test_consecutive_sync_steps_take_one_trip_to_the_pool(app: App, client_for: ClientFor) -> None:
    threads: list[int] = []

    def one() -> Iterator[int]:
        threads.append(threading.get_ident())
        yield 1

    def two(a: int = Depends(one)) -> int:
        threads.append(threading.get_ident())
        return a + 1

    @app.get("/sync-chain")
    def handler(b: int = Depends(two)) -> int:
        threads.append(threading.get_ident())
        return b

    client = client_for(app)
    trips: list[Any] = []
    submit, submit_route_job = app.engine.run_in_thread, app.engine.submit_route_job
    submit_cleanup = app.engine.run_cleanup

    def counting(fn: Callable[..., Any], /, *args: Any) -> Any:
        trips.append(fn)
        return submit(fn, *args)

    def counting_cleanup(fn: Callable[..., Any], /, *args: Any) -> Any:
        trips.append(fn)
        return submit_cleanup(fn, *args)

    def counting_route_job(label: str, fn: Callable[..., Any], /, *args: Any) -> Any:
        trips.append(fn)
        return submit_route_job(label, fn, *args)

    app.engine.run_in_thread = counting  # type: ignore[method-assign]
    app.engine.submit_route_job = counting_route_job  # type: ignore[method-assign]
    app.engine.run_cleanup = counting_cleanup  # type: ignore[method-assign]
    assert client.get("/sync-chain").json() == 2
    assert len(set(threads)) == 1
    assert threads[0] != threading.get_ident()
    # One trip for the two dependencies and the handler, one for the generator's cleanup.
    assert len(trips) == 2


def test_cycles_and_unservable_dependencies_fail_at_registration(app: App) -> None:
    def a(x: int = Depends(lambda: 1)) -> int:
        return x

    def ping(value: Any = None) -> None:
        return None

    def pong(value: None = Depends(ping)) -> None:
        return None

    ping.__defaults__ = (Depends(pong),)
    with pytest.raises(SignatureError, match=r"dependency cycle: .*ping -> .*pong -> .*ping"):
        app.get("/cycle")(lambda v=Depends(ping): v)

    def positional(x: int, /) -> int:
        return x

    with pytest.raises(SignatureError, match="positional-only"):
        app.get("/positional")(lambda v=Depends(positional): v)
    with pytest.raises(SignatureError, match=r"Depends\(\) without a callable"):
        app.get("/nothing")(lambda v=Depends(): v)
    with pytest.raises(SignatureError, match=r"dependencies=\[\.\.\.\] takes Depends"):
        app.get("/bad", dependencies=[a])(lambda: 1)
