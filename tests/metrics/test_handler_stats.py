"""Handler statistics: counts by execution kind and each route's kind, for the app given or
the app serving the caller (from a handler on the loop or in the thread pool)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ambi import App, get_handler_stats
from ambi.testing import TestClient

ClientFor = Callable[[App], TestClient]


def cpu(n: int) -> int:
    return n * 2


def make_app() -> App:
    app = App()

    @app.get("/async")
    async def on_loop() -> dict[str, Any]:
        return get_handler_stats()

    @app.get("/sync")
    def in_pool() -> dict[str, Any]:
        return get_handler_stats()

    @app.get("/inline", run="inline")
    def inline() -> str:
        return "x"

    app.get("/cpu", run="process")(cpu)
    return app


EXPECTED_KINDS = {"async": 1, "thread": 1, "inline": 1, "process": 1}


def test_app_handler_stats() -> None:
    stats = make_app().handler_stats()
    assert stats["total_handlers"] == 4
    assert stats["async_handlers"] == 1
    assert stats["sync_handlers"] == 3
    assert stats["by_kind"] == EXPECTED_KINDS
    kinds = {r["path"]: (r["methods"], r["kind"]) for r in stats["routes"]}
    assert kinds == {
        "/async": (["GET"], "async"),
        "/sync": (["GET"], "thread"),
        "/inline": (["GET"], "inline"),
        "/cpu": (["GET"], "process"),
    }
    assert [r["handler"] for r in stats["routes"]][-1] == "cpu"


def test_get_handler_stats_finds_the_current_app(client_for: ClientFor) -> None:
    app = make_app()
    client = client_for(app, raise_server_exceptions=False)
    for path in ("/async", "/sync"):
        body = client.get(path).json()
        assert body["by_kind"] == EXPECTED_KINDS, path


def test_found_from_the_loop_and_worker_threads_without_a_request(
    client_for: ClientFor,
) -> None:
    from ambi.http._context import set_current_request

    app = make_app()
    seen: list[int] = []

    @app.get("/no-request")
    async def no_request() -> None:
        set_current_request(None)  # as code outside a request (a startup task) sees it
        seen.append(get_handler_stats()["total_handlers"])
        seen.append(await app.engine.run_in_thread(lambda: get_handler_stats()["total_handlers"]))

    client_for(app, raise_server_exceptions=False).get("/no-request")
    assert seen == [5, 5]
