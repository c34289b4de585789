"""`App`: registration, the request entry point, lifecycle, and `listen()`."""

from __future__ import annotations

import gc
import logging
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from ._mount import Mounts
from ._pipeline import (
    CompiledRoute,
    DependencyOverrides,
    StageFactory,
    StageOrder,
    to_response,
    upload_settings,
)
from ._urls import URLPaths
from ._websocket_route import WebSocketRoutes
from .cache import cache_stage
from .exceptions import ConfigurationError, HTTPException, RequestValidationError
from .execution import Engine, Invoker
from .http import JSONResponse, Request, Response, State
from .http._context import set_current_request
from .metrics import app_metrics, handler_stats, register_app
from .middleware._app import MiddlewareMixin
from .middleware._asgi import ASGIApp, build_asgi_entry
from .middleware._chain import LayerOrder, Next
from .openapi import install_docs, openapi_document
from .routing import (
    Matcher,
    MethodNotAllowed,
    RouteDef,
    RouteOptions,
    Router,
    WebSocketRouteDef,
    parse_template,
)
from .servers import _ws_asgi, _ws_rsgi
from .servers import asgi as _asgi
from .servers import rsgi as _rsgi
from .servers._types import (
    ASGIReceive,
    ASGIScope,
    ASGISend,
    ClientDisconnected,
    RSGIProtocol,
    RSGIScope,
)
from .static import StaticFiles, StaticOptions

if TYPE_CHECKING:
    from .background._current import Queue
    from .metrics import Metrics
    from .sessions import SessionOptions
    from .stores import Store

logger = logging.getLogger("ambi.app")

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["App"], AbstractAsyncContextManager[Any] | AbstractContextManager[Any]]
ExceptionHandler = Callable[[Request, Any], Any]

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_WEBSOCKET_MAX_SIZE = 1024 * 1024
DEFAULT_UPLOAD_SPOOL_SIZE = 1024 * 1024


class App(Router, MiddlewareMixin):
    """An ambi application: an ASGI 3 and an RSGI app, and a place to register routes.

    `def` and `async def` are equals everywhere: handlers, hooks and exception handlers are
    classified once, here at registration, by `ambi.execution`, and run where they belong.
    Middleware (`ambi.middleware`) is registered here too and composed at startup.
    """

    #: `await app.dispatch(request)` gives the response: the app middleware chain, then
    #: routing and the route's pipeline. Set by `freeze()` (before it: freezes first).
    dispatch: Next

    def __init__(
        self,
        *,
        debug: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        sync_workers: int = 40,
        process_workers: int | None = None,
        lifespan: Lifespan | None = None,
        title: str = "ambi",
        version: str = "0.1.0",
        description: str = "",
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        shutdown_timeout: float = 10.0,
        dependencies: Sequence[Any] = (),
        websocket_max_size: int | None = DEFAULT_WEBSOCKET_MAX_SIZE,
        upload_spool_size: int = DEFAULT_UPLOAD_SPOOL_SIZE,
        upload_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(dependencies=dependencies)
        if sync_workers < 1:
            raise ConfigurationError(f"sync_workers must be at least 1, got {sync_workers}")
        if max_body_size < 0:
            raise ConfigurationError(f"max_body_size must be >= 0, got {max_body_size}")
        if websocket_max_size is not None and websocket_max_size < 1:
            raise ConfigurationError(
                f"websocket_max_size must be at least 1 (or None), got {websocket_max_size}"
            )
        if lifespan is not None and not callable(lifespan):
            raise ConfigurationError("lifespan must be a callable taking the app")
        self.debug = debug
        self.max_body_size = max_body_size
        #: Uploads larger than `spool_size` bytes go to temporary files in `directory`.
        self.uploads = upload_settings(upload_spool_size, upload_dir)
        #: The largest websocket message accepted, in bytes (routes may set their own with
        #: `max_size=`); a bigger one closes the connection with 1009. None: no limit.
        self.websocket_max_size = websocket_max_size
        self.title = title
        self.version = version
        self.description = description
        self.shutdown_timeout = shutdown_timeout
        self.state = State()
        self.engine = Engine(sync_workers=sync_workers, process_workers=process_workers)
        self.compiled: list[CompiledRoute] = []
        self._matcher: Matcher[CompiledRoute] = Matcher()
        self._served: list[CompiledRoute] = []  # user and framework routes
        self.websockets = WebSocketRoutes()
        self._lifespan = lifespan
        self._lifespan_exit: Callable[[], Any] | None = None
        #: What the lifespan yielded (a mapping): copied into every `request.state`.
        self.lifespan_state: dict[str, Any] = {}
        #: `app.dependency_overrides[original] = replacement`, for tests; takes effect on
        #: the next request.
        self.dependency_overrides = DependencyOverrides()
        self._frozen = False
        self._stages: list[tuple[StageOrder, StageFactory]] = []
        self._hooks: dict[str, list[Invoker]] = {"startup": [], "shutdown": []}
        self._exception_handlers: dict[type[BaseException] | int, Invoker] = {}
        self._started = False
        self._tasks: Queue | None = None
        self._mounts = Mounts(self)
        self._urls = URLPaths(self.routes, self._mounts)
        #: Freeze the objects alive after startup out of the garbage collector's scans.
        #: `listen()` and `ambi run` turn it on for the process they serve; off by default
        #: so that test suites starting many apps keep collecting normally.
        self.freeze_gc = False
        self._init_middleware()
        self.dispatch = self._dispatch_unfrozen
        self._metrics: Metrics | None = None
        self._tracing = False
        register_app(self)
        install_docs(self, openapi_url=openapi_url, docs_url=docs_url, redoc_url=redoc_url)

    # Registration -------------------------------------------------------------------------

    def _mount(self, route: RouteDef, *, internal: bool = False) -> CompiledRoute:
        """Compile `route` and make the matcher find it (conflicts raise here)."""
        template = parse_template(route.path)
        compiled = CompiledRoute(
            route,
            template,
            self.engine,
            max_body_size=self.max_body_size,
            dependencies=() if internal else self.dependencies,
            overrides=self.dependency_overrides,
            uploads=self.uploads,
        )
        self._matcher.add(template, set(route.methods), compiled)
        self._served.append(compiled)
        if self._frozen:  # added after startup: put its pipeline together now
            compiled.freeze(self._stage_factories(), self)
        return compiled

    def _register(self, route: RouteDef) -> None:
        self.compiled.append(self._mount(route))
        self.routes.append(route)

    def _register_websocket(self, route: WebSocketRouteDef) -> None:
        self.websockets.add(route, self)
        self.websocket_routes.append(route)

    def _add_internal_route(self, path: str, endpoint: Callable[..., Any]) -> None:
        """Serve a framework route (the OpenAPI document, the docs pages): matched like any
        GET route, but not in `routes`, `compiled` or the OpenAPI document."""
        self._mount(
            RouteDef(path, frozenset({"GET"}), endpoint, RouteOptions(include_in_schema=False)),
            internal=True,
        )

    def add_stage(self, order: StageOrder, factory: StageFactory) -> None:
        """Let a feature put a stage into the pipeline of the routes it applies to.

        `factory(route, app)` runs once per route when the app starts (or when a route is
        added later) and returns the route's stage, or None when the route does not use
        the feature (then it costs that route nothing). Features enabled on the app
        (`enable_...`) call this; features driven by route options register theirs in
        `_stage_factories`.
        """
        if self._frozen:
            raise ConfigurationError(
                "features that change the request pipeline must be enabled before the app starts"
            )
        self._stages.append((order, factory))

    def _stage_factories(self) -> tuple[StageFactory, ...]:
        """The features that may add a stage to a route's pipeline, outermost first."""
        stages = [*self._stages, (StageOrder.CACHE, cache_stage)]  # @cache on the endpoint
        return tuple(factory for _, factory in sorted(stages, key=lambda s: s[0]))

    def freeze(self) -> None:
        """Put every route's pipeline together from the features now configured (run by
        startup; routes added later are put together as they are added)."""
        factories = self._stage_factories()
        for compiled in self._served:
            compiled.freeze(factories, self)
        self._frozen = True
        self.dispatch = self._compose(self._route)
        if self._asgi_middleware and self._asgi_entry is None:
            self._asgi_entry = build_asgi_entry(self, self._serve_asgi)

    async def _dispatch_unfrozen(self, request: Request) -> Response:
        """A request before startup (a test client used without `with`): put the app
        together first, so its stages and middleware apply from the first request on."""
        if not self._frozen:
            self.freeze()
        return await self.dispatch(request)

    def mount(self, path: str, app: Any, *, name: str | None = None) -> None:
        """Hand the requests under `path` that no route matches to `app`: an ambi App,
        `StaticFiles`, or any ASGI app (Starlette, FastAPI...), over ASGI and RSGI alike."""
        self._mounts.add(path, app, name)

    def mount_static(
        self,
        path: str,
        directory: str | os.PathLike[str],
        *,
        name: str | None = "static",
        **options: Unpack[StaticOptions],
    ) -> None:
        """Serve the files under `directory` at `path`: `mount(path, StaticFiles(...))`."""
        self.mount(path, StaticFiles(directory=directory, **options), name=name)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route (or mount) called `name`, with `params` put in;
        `NoMatchFound` if there is none that takes them."""
        return self._urls.path_for(name, params)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of this app (built on first use, rebuilt after new
        routes); served at `openapi_url`."""
        return openapi_document(self)

    def on_event(self, event: str) -> Callable[[F], F]:
        """Register a `startup` or `shutdown` hook (sync or async)."""

        def decorator(fn: F) -> F:
            self.add_event_handler(event, fn)
            return fn

        return decorator

    def add_event_handler(self, event: str, fn: Callable[[], Any]) -> None:
        if event not in self._hooks:
            raise ConfigurationError(f"unknown event {event!r}; use 'startup' or 'shutdown'")
        self._hooks[event].append(Invoker(fn, self.engine))

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[F], F]:
        """Register `handler(request, exc)` (sync or async) for an exception class or status."""

        def decorator(fn: F) -> F:
            self.add_exception_handler(key, fn)
            return fn

        return decorator

    def add_exception_handler(self, key: type[BaseException] | int, fn: ExceptionHandler) -> None:
        valid_class = isinstance(key, type) and issubclass(key, BaseException)
        if not valid_class and not (isinstance(key, int) and 400 <= key <= 599):
            raise ConfigurationError(
                f"exception handlers are keyed by an exception class or a 4xx/5xx status, "
                f"not {key!r}"
            )
        self._exception_handlers[key] = Invoker(fn, self.engine)

    # Background tasks ---------------------------------------------------------------------

    def enable_background_tasks(
        self,
        workers: int = 4,
        *,
        backend: str = "memory",
        max_queued: int = 10_000,
        max_retries: int = 0,
        timeout: float | None = None,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        shutdown_timeout: float | None = None,
        keep_results: int | None = None,
        visibility_timeout: float | None = None,
        result_ttl: float | None = None,
        queue_name: str | None = None,
    ) -> None:
        """Turn on the app task queue (`app.add_task`, `app.tasks`, `schedule_task`).

        In this process by default (at most `workers` tasks at once); with
        `backend="redis://..."` or `"nats://..."` tasks go to taskiq and run in
        `ambi worker` processes. See `ambi.background`.
        """
        from .background._setup import build_queue

        if self._tasks is not None:
            raise ConfigurationError("background tasks are already enabled on this app")
        queue = build_queue(
            self,
            workers,
            backend=backend,
            max_queued=max_queued,
            max_retries=max_retries,
            timeout=timeout,
            backoff=backoff,
            max_backoff=max_backoff,
            shutdown_timeout=shutdown_timeout,
            keep_results=keep_results,
            visibility_timeout=visibility_timeout,
            result_ttl=result_ttl,
            queue_name=queue_name,
        )
        self._tasks = queue
        self.add_event_handler("startup", queue.start)
        # first of the shutdown hooks: tasks finish before the resources they use close
        self._hooks["shutdown"].insert(0, Invoker(queue.shutdown, self.engine))

    @property
    def tasks(self) -> Queue:
        """The app task queue (after `enable_background_tasks`)."""
        if self._tasks is None:
            raise ConfigurationError(
                "background tasks are not enabled: call app.enable_background_tasks() first"
            )
        return self._tasks

    def add_task(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> str:
        """Queue `fn(*args, **kwargs)` (sync or async) on the app task queue; return its id.
        Per-task options (`delay`, `max_retries`, `timeout`): `app.tasks.submit(...)`."""
        return self.tasks.add_task(fn, *args, **kwargs)

    # Cache and sessions -------------------------------------------------------------------

    def enable_cache(self, store: str | Store = "memory://") -> None:
        """Where this app's `@cache` routes keep entries: a URL (`"redis://host:6379/0"`)
        or a `Store`; by default an in-memory store of its own (see `ambi.cache`)."""
        from .cache import app_cache

        app_cache(self).set_store(store)

    def enable_sessions(self, secret_key: str | bytes, **options: Unpack[SessionOptions]) -> None:
        """`request.session`: signed-cookie sessions, or server-side ones in `store=`
        (see `ambi.sessions`). The session layer sits in the app middleware chain at
        `LayerOrder.SESSIONS` (inside CORS and compression, around user middleware)."""
        from .sessions import SessionLayer

        if "sessions" in self._enabled:
            raise ConfigurationError("sessions are already enabled on this app")
        layer = SessionLayer(self._route, secret_key, options)  # options are checked here

        def around(app: App, call_next: Next) -> Next:
            layer.inner = call_next
            return layer

        self.add_layer(LayerOrder.SESSIONS, around)
        self._enabled["sessions"] = layer
        self.add_event_handler("shutdown", layer.close)

    # Observability ------------------------------------------------------------------------

    def enable_metrics(self, path: str | None = "/metrics", *, flush_interval: float = 1.0) -> None:
        """Count and time every request by route template (`app.metrics()`), and serve
        them at `path` in Prometheus text (None: no endpoint; needs the `metrics` extra).

        With several worker processes, set `PROMETHEUS_MULTIPROC_DIR`: each worker writes
        its counts there every `flush_interval` seconds, and a scrape adds them up.
        """
        from .metrics import enable_metrics

        self._metrics = enable_metrics(self, path, flush_interval)

    def enable_tracing(self, tracer_provider: Any = None) -> None:
        """One OpenTelemetry server span per request, named by route template, continuing
        an incoming `traceparent` (needs the `tracing` extra). `tracer_provider`: the
        global one by default."""
        from .metrics._tracing import enable_tracing

        enable_tracing(self, tracer_provider)

    def handler_stats(self) -> dict[str, Any]:
        """How many handlers of each execution kind, and each route's kind."""
        return handler_stats(self)

    def metrics(self) -> dict[str, Any]:
        """Requests, status classes, latency percentiles and in flight per route (with
        `enable_metrics`), the handler kinds and the pools."""
        return app_metrics(self)

    # Serving ------------------------------------------------------------------------------

    async def _route(self, request: Request) -> Response:
        """Route `request`, run its handler, and turn any error into a response."""
        try:
            found = self._matcher.match(request.method, request.path)
            if found is None:
                return await self._mounts.serve(request)  # 404 when no mount takes it
            if isinstance(found, MethodNotAllowed):
                raise HTTPException(405, headers={"allow": ", ".join(sorted(found.allowed))})
            request.path_params = found.params
            request.route = found.value
            set_current_request(request)
            response = await found.value.handle(request)
            if response.deferred:
                await response.prepare(self.engine)
            return response
        except ClientDisconnected:
            raise  # nobody to answer: the adapter drops the request quietly
        except Exception as exc:
            return await self._error_response(request, exc)

    def _handler_for(self, exc: Exception) -> Invoker | None:
        handlers = self._exception_handlers
        if not handlers:
            return None
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def _error_response(self, request: Request, exc: Exception) -> Response:
        handler = self._handler_for(exc)
        if handler is not None:
            try:
                return to_response(await handler(request, exc))
            except Exception as handler_exc:
                logger.exception("exception handler %s failed", handler.name)
                return self._server_error(request, handler_exc)
        if isinstance(exc, HTTPException):
            try:
                return http_error_response(exc)
            except Exception as render_exc:
                logger.exception("could not render the error response for %r", exc)
                return self._server_error(request, render_exc)
        logger.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
        return self._server_error(request, exc)

    def _server_error(self, request: Request, exc: BaseException) -> Response:
        if not self.debug:
            return JSONResponse({"detail": "Internal Server Error"}, 500)
        return JSONResponse(
            {
                "detail": "Internal Server Error",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exception(exc),
            },
            500,
        )

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        """The ASGI 3 entry point."""
        if self._asgi_middleware:
            await self._asgi_stack()(scope, receive, send)
            return
        await self._serve_asgi(scope, receive, send)

    def _asgi_stack(self) -> ASGIApp:
        entry = self._asgi_entry
        if entry is None:  # the first call, before startup: the stack is fixed from here on
            entry = self._asgi_entry = build_asgi_entry(self, self._serve_asgi)
        return entry

    async def _serve_asgi(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            await _asgi.serve_http(self, scope, receive, send)
        elif kind == "lifespan":
            await _asgi.serve_lifespan(self, receive, send)
        elif kind == "websocket":
            await _ws_asgi.serve(self, scope, receive, send)

    async def __rsgi__(self, scope: RSGIScope, proto: RSGIProtocol) -> None:
        """The RSGI entry point (Granian)."""
        if scope.proto == "http":
            if self._asgi_middleware:  # bridged: ASGI middleware applies over RSGI too
                await _rsgi.serve_http(self, scope, proto, self._rsgi_via_asgi)
                return
            await _rsgi.serve_http(self, scope, proto)
        elif scope.proto == "ws":
            await _ws_rsgi.serve(self, scope, proto)  # type: ignore[arg-type]

    def __rsgi_init__(self, loop: Any) -> None:
        _rsgi.init(self, loop)

    def __rsgi_del__(self, loop: Any) -> None:
        _rsgi.close(self, loop)

    # Lifecycle ----------------------------------------------------------------------------

    async def startup(self) -> None:
        """Start the pools, enter the lifespan, run the startup hooks (once)."""
        self.engine.start()  # (re)bind to the running loop, even when already started
        if self._started:
            return
        self.freeze()
        if self._lifespan is not None:
            await self._enter_lifespan(self._lifespan)
        await self._mounts.startup()
        for hook in self._hooks["startup"]:
            await hook()
        self._started = True
        if self.freeze_gc:
            # PERF: what exists after startup (routes, compiled validators, pools, modules)
            # lives as long as the process: move it out of the collector's sight, so the
            # garbage of each request no longer triggers scans over all of it. Measured on
            # POST /orders: p99 10-11 ms -> 3.6-3.9 ms, same req/s (bench_gc_freeze.py).
            gc.collect()
            gc.freeze()

    async def shutdown(self) -> None:
        """Run the shutdown hooks, leave the lifespan, stop the pools."""
        if not self._started:
            return
        self._started = False
        errors: list[BaseException] = []
        for hook in self._hooks["shutdown"]:
            try:
                await hook()
            except Exception as exc:
                logger.exception("shutdown hook %s failed", hook.name)
                errors.append(exc)
        try:
            await self._mounts.shutdown()
        except Exception as exc:
            errors.append(exc)
        if self._lifespan_exit is not None:
            leave, self._lifespan_exit = self._lifespan_exit, None
            await leave()
        self.engine.stop(self.shutdown_timeout)
        if errors:
            raise errors[0]

    async def _enter_lifespan(self, lifespan: Lifespan) -> None:
        """Enter `lifespan(app)`, an async or a sync context manager (a sync one is entered
        and left in the thread pool); a mapping it yields becomes the lifespan state."""
        cm = lifespan(self)
        if isinstance(cm, AbstractAsyncContextManager):
            state = await cm.__aenter__()
            self._lifespan_exit = lambda: cm.__aexit__(None, None, None)
        elif isinstance(cm, AbstractContextManager):
            state = await self.engine.run_in_thread(cm.__enter__)
            self._lifespan_exit = lambda: self.engine.run_in_thread(cm.__exit__, None, None, None)
        else:
            raise ConfigurationError(
                f"lifespan must return an async or a sync context manager, not {cm!r}"
            )
        if state is not None:
            if not isinstance(state, Mapping):
                leave, self._lifespan_exit = self._lifespan_exit, None
                await leave()
                raise ConfigurationError(
                    f"a lifespan yields nothing or a mapping (the lifespan state), not {state!r}"
                )
            self.lifespan_state = dict(state)

    def listen(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: int = 1,
        *,
        server: str = "granian",
        interface: str | None = None,
        log_level: str = "info",
        access_log: bool = False,
        websocket_ping_interval: float | None = None,
        websocket_ping_timeout: float | None = None,
    ) -> None:
        """Serve the app with a production server: Granian over RSGI by default (over ASGI
        when the app has ASGI middleware, which is cheaper there than bridged).

        `websocket_ping_interval` / `websocket_ping_timeout` (seconds) set uvicorn's pings
        of idle websockets (its default: 20 / 20); Granian sends none, and refuses them.
        """
        from .servers._runner import WebSocketSettings, serve

        serve(
            self,
            host=host,
            port=port,
            workers=workers,
            server=server,
            interface=interface,
            log_level=log_level,
            access_log=access_log,
            websockets=WebSocketSettings(websocket_ping_interval, websocket_ping_timeout),
        )


def http_error_response(exc: HTTPException) -> Response:
    """The JSON response for an `HTTPException`: `{"detail": ...}` with its headers."""
    body: dict[str, Any] = {"detail": exc.detail}
    if isinstance(exc, RequestValidationError):
        body = {"detail": exc.errors}
    return JSONResponse(body, exc.status_code, exc.headers or None)
