import asyncio
import contextlib
import logging
import threading
import time

import pytest

import ambi
from ambi import App, ConfigurationError, HTTPException, JSONResponse
from ambi.testing import AsyncTestClient, TestClient


class PaymentError(Exception):
    pass


def test_same_exception_same_response_for_sync_and_async(client_for, make_handler) -> None:
    app = App()

    def not_found(item_id: int):
        raise HTTPException(404, detail=f"item {item_id} not found", headers={"x-why": "gone"})

    def crash():
        raise RuntimeError("secret internals")

    app.get("/items/{item_id:int}")(make_handler(not_found))
    app.get("/crash")(make_handler(crash))
    client = client_for(app, raise_server_exceptions=False)
    response = client.get("/items/3")
    assert response.status_code == 404
    assert response.json() == {"detail": "item 3 not found"}
    assert response.headers["x-why"] == "gone"
    crashed = client.get("/crash")
    assert crashed.status_code == 500
    assert crashed.json() == {"detail": "Internal Server Error"}
    assert "secret" not in crashed.text


def test_unhandled_errors_are_logged_with_traceback(client_for, caplog) -> None:
    app = App()

    @app.get("/crash")
    async def crash():
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="ambi.app"):
        client_for(app, raise_server_exceptions=False).get("/crash")
    record = next(r for r in caplog.records if "unhandled error" in r.getMessage())
    assert record.exc_info is not None
    assert "boom" in str(record.exc_info[1])


def test_debug_shows_the_error(client_for) -> None:
    app = App(debug=True)
    app.get("/crash")(lambda: 1 / 0)
    body = client_for(app, raise_server_exceptions=False).get("/crash").json()
    assert body["error"].startswith("ZeroDivisionError")
    assert any("ZeroDivisionError" in line for line in body["traceback"])


def test_exception_handlers_sync_and_async(client_for, make_handler) -> None:
    app = App()

    @app.exception_handler(PaymentError)
    def payment(request, exc):
        return JSONResponse({"error": str(exc), "path": request.path}, status_code=402)

    @app.exception_handler(404)
    async def not_found(request, exc):
        return JSONResponse({"custom": "nothing here"}, status_code=404)

    def pay():
        raise PaymentError("card declined")

    app.get("/pay")(make_handler(pay))
    client = client_for(app)
    response = client.get("/pay")
    assert (response.status_code, response.json()) == (
        402,
        {"error": "card declined", "path": "/pay"},
    )
    assert client.get("/missing").json() == {"custom": "nothing here"}


def test_exception_handler_matches_subclasses_and_failing_handler_is_500(client_for) -> None:
    app = App()

    class Special(PaymentError):
        pass

    @app.exception_handler(PaymentError)
    def payment(request, exc):
        raise ValueError("handler bug")

    @app.get("/x")
    def raise_special():
        raise Special

    assert client_for(app, raise_server_exceptions=False).get("/x").status_code == 500


def test_bad_exception_handler_keys() -> None:
    app = App()
    with pytest.raises(ConfigurationError):
        app.exception_handler(200)(lambda r, e: None)
    with pytest.raises(ConfigurationError):
        app.exception_handler("ValueError")(lambda r, e: None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs", [{"sync_workers": 0}, {"max_body_size": -1}, {"lifespan": "nope"}]
)
def test_bad_app_configuration(kwargs) -> None:
    with pytest.raises(ConfigurationError):
        App(**kwargs)


def test_lifecycle_hooks_and_app_attributes(interface: str, make_handler) -> None:
    app = App()
    events: list[str] = []

    @app.on_event("startup")
    async def connect():
        app.db = {"users": ["ada"]}  # type: ignore[attr-defined]
        events.append("async startup")

    @app.on_event("startup")
    def warm():
        app.state.cache = {"warm": True}
        events.append("sync startup")

    @app.on_event("shutdown")
    def close():
        events.append("sync shutdown")

    @app.on_event("shutdown")
    async def aclose():
        events.append("async shutdown")

    app.get("/users")(
        make_handler(
            lambda request: {"users": request.app.db["users"], "cache": request.app.state.cache}
        )
    )
    with TestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        assert client.get("/users").json() == {"users": ["ada"], "cache": {"warm": True}}
    assert events == ["async startup", "sync startup", "sync shutdown", "async shutdown"]


def test_lifespan_context_manager(interface: str) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App):
        events.append("enter")
        app.state.pool = "pool"
        yield
        events.append("exit")

    app = App(lifespan=lifespan)
    app.get("/")(lambda request: request.app.state.pool)
    with TestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        assert client.get("/").text == "pool"
    assert events == ["enter", "exit"]


def test_failing_startup_stops_before_serving(interface: str) -> None:
    app = App()

    @app.on_event("startup")
    async def broken():
        raise OSError("database unreachable")

    with pytest.raises((RuntimeError, OSError), match="database unreachable"):
        TestClient(app, interface=interface).__enter__()  # type: ignore[arg-type]


def test_unknown_event() -> None:
    with pytest.raises(ConfigurationError):
        App().on_event("boot")(lambda: None)


def test_sync_handlers_never_run_on_the_loop(client_for) -> None:
    app = App()
    loop_threads: list[int] = []

    @app.on_event("startup")
    async def record_loop():
        loop_threads.append(threading.get_ident())

    @app.get("/where")
    def where():
        return {"thread": threading.get_ident(), "name": threading.current_thread().name}

    body = client_for(app).get("/where").json()
    assert body["thread"] != loop_threads[0]
    assert body["name"].startswith("ambi-worker")


def test_inline_opt_in_runs_on_the_loop(client_for) -> None:
    app = App()
    loop_threads: list[int] = []

    @app.on_event("startup")
    async def record_loop():
        loop_threads.append(threading.get_ident())

    @app.get("/inline", run="inline")
    def inline():
        return {"thread": threading.get_ident()}

    assert client_for(app).get("/inline").json() == {"thread": loop_threads[0]}


async def test_sync_handlers_overlap_in_the_pool(interface: str) -> None:
    app = App(sync_workers=20)

    @app.get("/slow")
    def slow():
        time.sleep(1.0)
        return {"ok": True}

    @app.get("/fast")
    async def fast():
        return {"fast": True}

    async with AsyncTestClient(app, interface=interface) as client:  # type: ignore[arg-type]
        started = time.perf_counter()
        slow_requests = [asyncio.ensure_future(client.get("/slow")) for _ in range(20)]
        await asyncio.sleep(0.05)
        fast_started = time.perf_counter()
        fast = await client.get("/fast")
        fast_elapsed = time.perf_counter() - fast_started
        responses = await asyncio.gather(*slow_requests)
        elapsed = time.perf_counter() - started
    assert fast.json() == {"fast": True}
    assert fast_elapsed < 0.9  # the loop was free while 20 sync handlers slept (1 s each)
    assert all(r.status_code == 200 for r in responses)
    assert elapsed < 8.0  # serial would take 20 s


def test_public_api_is_pinned() -> None:
    assert sorted(ambi.__all__) == sorted(
        [
            "APIRoute",
            "APIRouter",
            "AmbiError",
            "App",
            "BackgroundTasks",
            "BaseModel",
            "Body",
            "BridgeError",
            "ConfigurationError",
            "Cookie",
            "Depends",
            "EventSourceResponse",
            "ExecutionKind",
            "Field",
            "File",
            "FileResponse",
            "Form",
            "FormData",
            "HTMLResponse",
            "HTTPException",
            "Header",
            "Headers",
            "JSONResponse",
            "NoMatchFound",
            "Path",
            "PlainTextResponse",
            "Query",
            "QueryParams",
            "RateLimitConfig",
            "RedirectResponse",
            "Request",
            "RequestValidationError",
            "Response",
            "ResponseValidationError",
            "RouteConflictError",
            "Router",
            "Security",
            "ServerSentEvent",
            "SignatureError",
            "State",
            "StaticFiles",
            "StoreError",
            "StreamingResponse",
            "UploadFile",
            "WebSocket",
            "WebSocketDisconnect",
            "WebSocketException",
            "WebSocketState",
            "__version__",
            "cache",
            "get_handler_stats",
            "get_performance_metrics",
            "invalidate",
            "jsonable_encoder",
            "run_sync",
            "smartasync",
            "status",
        ]
    )
    for name in ambi.__all__:
        assert hasattr(ambi, name), name


def test_freeze_gc_after_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from ambi.servers import _runner

    app = App()
    assert app.freeze_gc is None  # decided by how the app is served
    seen: list[bool | None] = []
    monkeypatch.setattr(_runner, "_serve_granian", lambda run: seen.append(run.app.freeze_gc))
    app.listen(port=1)
    assert seen == [True]  # listen() serves with it on
    gc.unfreeze()
    try:
        with TestClient(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_freeze_gc_off_stays_off_when_served(monkeypatch: pytest.MonkeyPatch) -> None:
    from ambi.servers import _runner

    app = App()
    app.freeze_gc = False
    seen: list[bool | None] = []
    monkeypatch.setattr(_runner, "_serve_granian", lambda run: seen.append(run.app.freeze_gc))
    app.listen(port=1)
    assert seen == [False]


@pytest.mark.parametrize("setting", [None, True, False])
def test_freeze_gc_in_a_granian_rsgi_worker(setting: bool | None) -> None:
    """`__rsgi_init__` is called only by a Granian worker (`granian --interface rsgi
    module:app` too, not only `listen()`): there the default freezes."""
    import gc

    app = App()
    app.freeze_gc = setting
    loop = asyncio.new_event_loop()
    gc.unfreeze()
    try:
        app.__rsgi_init__(loop)
        try:
            assert (gc.get_freeze_count() > 0) is (setting is not False)
        finally:
            app.__rsgi_del__(loop)
    finally:
        loop.close()
        gc.unfreeze()
    in_tests = App()
    with TestClient(in_tests):  # a test client's startup does not freeze by default
        assert gc.get_freeze_count() == 0
