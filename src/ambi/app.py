"""`App`: registration, the request entry point, lifecycle, and `listen()`."""

from __future__ import annotations

import functools
import gc
import logging
import os
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from ._mount import Mounts
from ._openapi_info import OpenAPIInfo
from ._pipeline import (
    CompiledRoute,
    DependencyOverrides,
    StageFactory,
    StageOrder,
    to_response,
    upload_settings,
)
from ._pipeline._render import check_response_class
from ._server_errors import report_server_error
from ._slashes import check_root_path as _check_root_path
from ._slashes import slash_redirect
from ._urls import URLPaths
from ._websocket_route import WebSocketRoutes
from .cache import cache_stage
from .exception_handlers import http_error_response
from .exceptions import ConfigurationError, HTTPException, RequestValidationError
from .execution import LIMIT_STAGES, Engine, Invoker, RunningRoute, running_route
from .http import JSONResponse, Request, Response, State
from .http._context import set_current_request
from .metrics import app_metrics, handler_stats, register_app
from .metrics._histogram import FAST_BUCKETS, FAST_FROM, FAST_LIMIT, FAST_SHIFT
from .middleware._app import MiddlewareMixin
from .middleware._asgi import ASGIApp, build_asgi_entry
from .middleware._chain import LayerOrder, Next
from .middleware._route import route_middleware_stage
from .openapi import install_docs, openapi_document
from .ratelimit._stage import AppRateLimit, rate_limit_stage
from .routing import (
    Matcher,
    MethodNotAllowed,
    RouteDef,
    RouteOptions,
    Router,
    WebSocketRouteDef,
    parse_template,
)
from .security._guards import guard_stage
from .servers import _shutdown, _ws_asgi, _ws_rsgi
from .servers import asgi as _asgi
from .servers import rsgi as _rsgi
from .servers._deadlines import DEFAULT_BODY_TIMEOUT, check_body_limits
from .servers._types import (
    ASGIReceive,
    ASGIScope,
    ASGISend,
    ClientDisconnected,
    RSGIProtocol,
    RSGIScope,
)
from .servers._ws_rsgi_asgi import serve_through_asgi
from .static import StaticFiles, StaticOptions

if TYPE_CHECKING:
    from .background._current import Queue
    from .metrics import Metrics
    from .security._jwt import JWTAuth
    from .sessions import SessionOptions
    from .stores import Store

logger = logging.getLogger("ambi.app")

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["App"], AbstractAsyncContextManager[Any] | AbstractContextManager[Any]]
ExceptionHandler = Callable[[Request, Any], Any]

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_WEBSOCKET_MAX_SIZE = 1024 * 1024
DEFAULT_UPLOAD_SPOOL_SIZE = 1024 * 1024
#: def-route requests waiting for a thread beyond which new ones are answered 503
DEFAULT_SYNC_QUEUE_LIMIT = 256
#: adaptive inline (ambi.execution._adaptive): promoted after this many calls in a row
#: under this many seconds; demoted by one inline call over the stall limit (or three close
#: together over the threshold). benchmarks/RESULTS.md has the measurements behind them.
DEFAULT_INLINE_THRESHOLD: float | None = 0.0005
DEFAULT_INLINE_AFTER = 1000
DEFAULT_INLINE_STALL_LIMIT = 0.05
#: the loop-blocking detector warns when the loop has not turned for this long (s)
DEFAULT_LOOP_BLOCK_THRESHOLD = 0.1

_clock = time.perf_counter_ns


async def _nothing() -> None:
    """What `__rsgi__` gives for a protocol it does not serve."""


def _running(frame: Mapping[str, Any]) -> RunningRoute:
    """The request an `App.dispatch` frame serves (for the loop-blocking detector)."""
    request: Request = frame["request"]
    route = getattr(frame.get("found"), "value", None)
    label = route.label if isinstance(route, CompiledRoute) else "(routing)"
    return RunningRoute(label, request.method, request.path)


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
        summary: str | None = None,
        version: str = "0.1.0",
        description: str = "",
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        servers: Sequence[Mapping[str, Any]] | None = None,
        terms_of_service: str | None = None,
        contact: Mapping[str, Any] | None = None,
        license_info: Mapping[str, Any] | None = None,
        root_path: str = "",
        root_path_in_servers: bool = True,
        default_response_class: type[Response] | None = None,
        redirect_slashes: bool = True,
        generate_unique_id_function: Callable[[RouteDef], str] | None = None,
        shutdown_timeout: float = 10.0,
        dependencies: Sequence[Any] = (),
        websocket_max_size: int | None = DEFAULT_WEBSOCKET_MAX_SIZE,
        upload_spool_size: int = DEFAULT_UPLOAD_SPOOL_SIZE,
        upload_dir: str | os.PathLike[str] | None = None,
        sync_queue_limit: int | None = DEFAULT_SYNC_QUEUE_LIMIT,
        inline_threshold: float | None = DEFAULT_INLINE_THRESHOLD,
        inline_after: int = DEFAULT_INLINE_AFTER,
        inline_stall_limit: float = DEFAULT_INLINE_STALL_LIMIT,
        loop_block_threshold: float | None = DEFAULT_LOOP_BLOCK_THRESHOLD,
        route_timeout: float | None = None,
        guards: Sequence[Callable[..., Any]] = (),
        body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        super().__init__(
            dependencies=dependencies,
            guards=guards,
            default_response_class=default_response_class,
            generate_unique_id_function=generate_unique_id_function,
            redirect_slashes=redirect_slashes,
        )
        if default_response_class is not None:
            check_response_class(default_response_class, "App(default_response_class=...)")
        if sync_workers < 1:
            raise ConfigurationError(f"sync_workers must be at least 1, got {sync_workers}")
        if websocket_max_size is not None and websocket_max_size < 1:
            raise ConfigurationError(
                f"websocket_max_size must be at least 1 (or None), got {websocket_max_size}"
            )
        if lifespan is not None and not callable(lifespan):
            raise ConfigurationError("lifespan must be a callable taking the app")
        self.debug = debug
        #: `body_timeout`: the longest a request body read waits for the client's next
        #: chunk (seconds), 408 after that; None: no limit (`ambi.servers._deadlines`).
        self.max_body_size, self.body_timeout = check_body_limits(max_body_size, body_timeout)
        #: Uploads larger than `spool_size` bytes go to temporary files in `directory`.
        self.uploads = upload_settings(upload_spool_size, upload_dir)
        #: The largest websocket message accepted, in bytes (routes may set their own with
        #: `max_size=`); a bigger one closes the connection with 1009. None: no limit.
        self.websocket_max_size = websocket_max_size
        #: What the OpenAPI document says about the app (`info`, `servers`, `tags`).
        self.info = OpenAPIInfo.checked(
            title=title,
            summary=summary,
            version=version,
            description=description,
            terms_of_service=terms_of_service,
            contact=contact,
            license_info=license_info,
            servers=servers,
            openapi_tags=openapi_tags,
        )
        #: Requests under this path prefix (set by a proxy) are routed without it, and
        #: the OpenAPI document and docs pages are served for it (FastAPI's root_path).
        self.root_path = _check_root_path(root_path)
        self.root_path_in_servers = root_path_in_servers
        self.shutdown_timeout = shutdown_timeout
        self.state = State()
        self.engine = Engine(
            sync_workers=sync_workers,
            process_workers=process_workers,
            sync_queue_limit=sync_queue_limit,
            inline_threshold=inline_threshold,
            inline_after=inline_after,
            inline_stall_limit=inline_stall_limit,
            block_threshold=loop_block_threshold,
            shutdown_timeout=shutdown_timeout,
        )
        #: the default `timeout=` of every route (seconds; None: none)
        self.route_timeout = route_timeout
        self.compiled: list[CompiledRoute] = []
        self._matcher: Matcher[CompiledRoute] = Matcher()
        self._served: list[CompiledRoute] = []  # user and framework routes
        self.websockets = WebSocketRoutes()
        self._lifespan = None if lifespan is None else Invoker(lifespan, self.engine)
        self._lifespan_exit: Callable[[], Any] | None = None
        #: What the lifespan yielded (a mapping): copied into every `request.state`.
        self.lifespan_state: dict[str, Any] = {}
        #: `app.dependency_overrides[original] = replacement`, for tests; takes effect on
        #: the next request.
        self.dependency_overrides = DependencyOverrides()
        self._frozen = False
        # Route-option-driven features: each adds a stage only to the routes that use it.
        self._stages: list[tuple[StageOrder, StageFactory]] = [
            *((StageOrder.LIMITS, factory) for factory in LIMIT_STAGES),  # concurrency, timeout
            (StageOrder.RATE_LIMIT, rate_limit_stage),
            (StageOrder.MIDDLEWARE, route_middleware_stage),
            (StageOrder.GUARDS, guard_stage),
        ]
        #: `enable_rate_limit(...)`: the limits every route (but the exempt) counts against.
        self.rate_limits: list[AppRateLimit] = []
        #: `enable_jwt(...)`: the bearer-token verifier, when enabled.
        self.jwt: JWTAuth | None = None
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
        self._dashboard: str | None = None
        register_app(self)
        install_docs(self, openapi_url=openapi_url, docs_url=docs_url, redoc_url=redoc_url)

    # FastAPI's attribute names for the document's `info`.

    @property
    def title(self) -> str:
        return self.info.title

    @title.setter
    def title(self, value: str) -> None:
        self.info.title = value

    @property
    def version(self) -> str:
        return self.info.version

    @version.setter
    def version(self, value: str) -> None:
        self.info.version = value

    @property
    def description(self) -> str:
        return self.info.description or ""

    @description.setter
    def description(self, value: str) -> None:
        self.info.description = value

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
            default_response_class=None if internal else self.default_response_class,
        )
        self._matcher.add(template, set(route.methods), compiled)
        self._served.append(compiled)
        if self._frozen:  # added after startup: put its pipeline together now
            self._freeze_route(compiled, self._stage_factories())
        return compiled

    def _freeze_route(self, compiled: CompiledRoute, factories: Sequence[StageFactory]) -> None:
        compiled.freeze(factories, self)
        if self._metrics is not None:
            compiled.metrics = self._metrics.for_route(compiled)

    def _register(self, route: RouteDef) -> None:
        self.compiled.append(self._mount(route))
        self.routes.append(route)

    def _register_websocket(self, route: WebSocketRouteDef) -> None:
        self.websockets.add(route, self)
        self.websocket_routes.append(route)

    def _add_internal_route(
        self, path: str, endpoint: Callable[..., Any], guards: Sequence[Callable[..., Any]] = ()
    ) -> None:
        """Serve a framework route (the OpenAPI document, the docs pages, metrics): matched
        like any GET route, but not in `routes`, `compiled` or the OpenAPI document."""
        options = RouteOptions(include_in_schema=False)
        if guards:
            options["guards"] = tuple(guards)
        self._mount(RouteDef(path, frozenset({"GET"}), endpoint, options), internal=True)

    def add_stage(self, order: StageOrder, factory: StageFactory) -> None:
        """Let a feature put a stage into the pipeline of the routes it applies to.

        `factory(route, app)` runs once per route when the app starts (or when a route is
        added later) and returns the route's stage, or None when the route does not use
        the feature (then it costs that route nothing). A stage is `stage(request,
        call_next)`, or `Wrapper(wrap)` to take `call_next` once: `wrap(call_next)` gives the
        handler from that stage in (cheaper per request). Features enabled on the app
        (`enable_...`) call this; features driven by route options register theirs in
        `_stage_factories`.
        """
        if self._frozen:
            raise ConfigurationError(
                "features that change the request pipeline must be enabled before the app starts"
            )
        self._stages.append((order, factory))

    def enable_jwt(
        self,
        secret: str | bytes | None = None,
        *,
        algorithms: Sequence[str] = ("HS256",),
        public_key: str | bytes | None = None,
        jwks: Mapping[str, Any] | None = None,
        required: bool = False,
        exclude: Sequence[str] = (),
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        leeway: float = 0,
        require: Sequence[str] = ("exp",),
        scheme_name: str = "JWT",
    ) -> None:
        """Verify `Authorization: Bearer <JWT>` and put its claims on `request.auth`.

        One key source: `secret` (HS256/384/512), `public_key` (PEM; RS*, PS*, ES*,
        EdDSA) or `jwks` (a JWKS mapping, keys picked by `kid`). A present but invalid
        token is refused (401) on every route it applies to; a missing one only where
        `required`. `exclude` takes paths and path prefixes (`"/public/"`, `"/docs*"`)
        that are not checked at all. See `ambi.security.JWTAuth`.
        """
        from .security._jwt import JWTAuth

        if self.jwt is not None:
            raise ConfigurationError("enable_jwt() was already called on this app")
        auth = JWTAuth(
            secret,
            algorithms=algorithms,
            public_key=public_key,
            jwks=jwks,
            required=required,
            exclude=exclude,
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            require=require,
            scheme_name=scheme_name,
        )
        self.add_stage(StageOrder.AUTHENTICATION, auth.stage)
        self.jwt = auth

    def enable_rate_limit(self, config: Any, *, exempt: Sequence[str] = ()) -> None:
        """Limit every route (but the `exempt` paths and path prefixes) by `config`, a
        `RateLimitConfig` (`RateLimitConfig.token_bucket(requests=100, window=60)`); one
        budget per client across the routes. Per-route limits: `rate_limit=` on a route
        or a router. See `ambi.ratelimit`."""
        if self._frozen:
            raise ConfigurationError(
                "features that change the request pipeline must be enabled before the app starts"
            )
        self.rate_limits.append(AppRateLimit(config, exempt))

    def _stage_factories(self) -> tuple[StageFactory, ...]:
        """The features that may add a stage to a route's pipeline, outermost first."""
        stages = [*self._stages, (StageOrder.CACHE, cache_stage)]  # @cache on the endpoint
        return tuple(factory for _, factory in sorted(stages, key=lambda s: s[0]))

    def freeze(self) -> None:
        """Put every route's pipeline together from the features now configured (run by
        startup; routes added later are put together as they are added)."""
        factories = self._stage_factories()
        self._sync_admission.app_depth = self._sync_middleware_count()
        for compiled in self._served:
            self._freeze_route(compiled, factories)
        self._sync_admission.size(self.engine.sync_workers)
        self.websockets.freeze(self)
        self._frozen = True
        self.dispatch = self._compose(self._route_under_root if self.root_path else self._routing)
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

    def enable_metrics(
        self,
        path: str | None = "/metrics",
        *,
        flush_interval: float = 1.0,
        guards: Sequence[Callable[..., Any]] = (),
    ) -> None:
        """Count and time every request by route template (`app.metrics()`), and serve
        them at `path` in Prometheus text (None: no endpoint; needs the `metrics` extra).
        `guards`: route guards the endpoint's requests must pass (a scraper's token...).

        With several worker processes, set `PROMETHEUS_MULTIPROC_DIR`: each worker writes
        its counts there every `flush_interval` seconds, and a scrape adds them up.
        """
        from .metrics import enable_metrics

        self._metrics = enable_metrics(self, path, flush_interval, guards)

    def enable_dashboard(
        self,
        path: str = "/_ambi",
        *,
        guards: Sequence[Callable[..., Any]] = (),
        local_only: bool = True,
        interval: float = 1.0,
    ) -> None:
        """A live status page at `path` (routes, rates, latencies, pool use, loop lag,
        the latest loop stalls), refreshed every `interval` s. Only for loopback clients
        unless `local_only=False`; `guards` apply too. See `ambi.metrics._dashboard`."""
        from .metrics._dashboard import enable_dashboard

        enable_dashboard(self, path, guards, local_only, interval)

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

    @running_route(_running)
    async def _route(self, request: Request) -> Response:
        """Route `request`, run its handler, and turn any error into a response."""
        try:
            found = self._matcher.match(request.method, request.path)
            if found is None:
                return await self._not_routed(request)
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

    @running_route(_running)
    async def _route_measured(self, request: Request) -> Response:
        """`_route` with `enable_metrics()`: each route's requests counted and timed
        (`ambi.metrics.RouteMetrics`) around its whole pipeline and error handling.

        # PERF: measured here, chosen once by `freeze()`, rather than in a route stage: no
        # coroutine more per request, and an app without metrics runs `_route` untouched
        # (bench_instructions "GET /json, metrics on" against "GET /json").
        """
        found = self._matcher.match(request.method, request.path)
        if found is None or isinstance(found, MethodNotAllowed):
            return await self._route(request)  # no route: not counted
        route = found.value
        metrics = route.metrics
        metrics.started += 1
        start = _clock()
        try:
            request.path_params = found.params
            request.route = route
            set_current_request(request)
            response = await route.handle(request)
            if response.deferred:
                await response.prepare(self.engine)
        except ClientDisconnected:
            metrics.disconnected += 1
            raise  # nobody to answer: the adapter drops the request quietly
        except Exception as exc:
            response = await self._error_response(request, exc)
        ns = _clock() - start
        try:
            row = metrics.by_code[response.status_code]
        except IndexError:  # a status code over 999
            row = metrics.row_of(response.status_code)
        group = ns >> FAST_SHIFT  # `ambi.metrics._histogram.bucket(ns)`, inlined:
        if FAST_FROM <= group < FAST_LIMIT:
            row[FAST_BUCKETS[group]] += 1
        else:
            bits = ns.bit_length()
            row[(bits << 3) | ((ns >> (bits - 4)) & 7) if bits > 4 else ns] += 1
        metrics.latency_sum += ns
        return response

    async def _route_under_root(self, request: Request) -> Response:
        """`_route` for an app with a `root_path` (the prefix a proxy serves it under):
        routed without the prefix (taken off the path when the proxy left it on), and
        `request.root_path` holds it, so that `request.url`, redirects and the docs pages
        name the URL the client sees."""
        root, path = self.root_path, request.path
        if path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
            request.path = path[len(root) :] or "/"
        request.root_path += root
        return await self._routing(request)

    @property
    def _routing(self) -> Callable[[Request], Awaitable[Response]]:
        """`_route`, or `_route_measured` with `enable_metrics()`."""
        return self._route if self._metrics is None else self._route_measured

    async def _not_routed(self, request: Request) -> Response:
        """No route takes the path: a mount, the same path with(out) a trailing slash
        (a 307 redirect, as Starlette's `redirect_slashes`), or a 404."""
        if self._mounts.find(request.path) is None:
            redirect = slash_redirect(self._matcher, request, self.redirect_slashes is not False)
            if redirect is not None:
                return redirect
        return await self._mounts.serve(request)  # 404 when no mount takes it

    def _handler_for(self, exc: Exception) -> Invoker | None:
        handlers = self._exception_handlers
        if not handlers:
            return None
        if isinstance(exc, RequestValidationError):
            # As in FastAPI, where it is no HTTPException: only a handler for
            # RequestValidationError (or a subclass) answers it, not one for
            # HTTPException, Exception or the status 422.
            for cls in type(exc).__mro__:
                if cls is HTTPException:
                    return None
                if cls in handlers:
                    return handlers[cls]
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
        report_server_error(exc)
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
        if scope["type"] == "http":  # PERF: one coroutine less (bench_request over ASGI)
            await _asgi.serve_http(self, scope, receive, send)
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

    def __rsgi__(self, scope: RSGIScope, proto: RSGIProtocol) -> Awaitable[None]:
        """The RSGI entry point (Granian): the adapter's coroutine for the request.

        # PERF: a plain function giving the adapter's coroutine, not a coroutine awaiting
        # it: one coroutine less per request (bench_instructions "GET /json").
        """
        if scope.proto == "http":
            if self._asgi_middleware:  # bridged: ASGI middleware applies over RSGI too
                return _rsgi.serve_http(self, scope, proto, self._rsgi_via_asgi)
            return _rsgi.serve_http(self, scope, proto)
        if scope.proto == "ws":
            if self._asgi_middleware:  # bridged: ASGI middleware wraps websockets too
                return serve_through_asgi(self, scope, proto)  # type: ignore[arg-type]
            return _ws_rsgi.serve(self, scope, proto)  # type: ignore[arg-type]
        return _nothing()

    def __rsgi_init__(self, loop: Any) -> None:
        _rsgi.init(self, loop)

    def __rsgi_del__(self, loop: Any) -> None:
        _rsgi.close(self, loop)

    # Lifecycle ----------------------------------------------------------------------------

    async def startup(self) -> None:
        """Start the pools, enter the lifespan, run the startup hooks (once)."""
        await self.engine.startup()  # (re)bind to the running loop, even when already started
        self.engine.give_up_hooks[:] = [functools.partial(_shutdown.cut_in_flight, self)]
        if self._started:
            return
        self.freeze()
        if self._lifespan is not None:
            await self._enter_lifespan(self._lifespan)
        await self._mounts.startup()
        for hook in self._hooks["startup"]:
            await hook()
        self._started = True
        _shutdown.report(_shutdown.UP)  # the runner expects this process's shutdown now
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
        await self.engine.drain(self.shutdown_timeout)  # in-flight work first, then hooks
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
        _shutdown.report(_shutdown.UNCLEAN if self.engine.cut_short else _shutdown.CLEAN)
        self.engine.cut_short = False
        self.engine.cut.clear()
        self.engine.stop(self.shutdown_timeout)
        if errors:
            raise errors[0]

    async def _enter_lifespan(self, lifespan: Invoker) -> None:
        """Enter `lifespan(app)`, an async or a sync context manager, through ambi.execution
        (a sync one is entered and left in the thread pool); a mapping it yields becomes
        the lifespan state."""
        cm = lifespan.enter(self)
        state = await cm.__aenter__()
        if state is not None and not isinstance(state, Mapping):
            await cm.__aexit__(None, None, None)
            raise ConfigurationError(
                f"a lifespan yields nothing or a mapping (the lifespan state), not {state!r}"
            )
        self._lifespan_exit = functools.partial(cm.__aexit__, None, None, None)
        if state is not None:
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
