"""`App`: the constructor, compiling routes and freezing the app, and what the request path
measures. The rest of `App` comes from its parts in `ambi._app`: registration, the
`enable_*` features, lifecycle and exception handlers, the server side (`listen()`)."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any

from ._app._features import FeaturesMixin
from ._app._lifecycle import LifecycleMixin
from ._app._registration import RegistrationMixin
from ._app._serving import ServingMixin
from ._app._serving import running_request as _running
from ._mount import Mounts
from ._openapi_info import OpenAPIInfo
from ._pipeline import (
    CompiledRoute,
    DependencyOverrides,
    StageFactory,
    StageOrder,
    upload_settings,
)
from ._pipeline._render import check_response_class
from ._server_errors import report_server_error
from ._slashes import check_root_path as _check_root_path
from ._urls import URLPaths
from ._websocket_route import WebSocketRoutes
from .exceptions import ConfigurationError, HTTPException, RequestValidationError
from .execution import LIMIT_STAGES, Engine, Invoker, running_route
from .http import JSONResponse, Request, Response, State
from .http._context import set_current_request
from .metrics import register_app
from .middleware._app import MiddlewareMixin
from .middleware._asgi import build_asgi_entry
from .middleware._chain import Next
from .middleware._route import route_middleware_stage
from .openapi import install_docs
from .ratelimit._stage import AppRateLimit, rate_limit_stage
from .routing import Matcher, MethodNotAllowed, RouteDef, Router, parse_template
from .security._guards import guard_stage
from .servers._deadlines import DEFAULT_BODY_TIMEOUT, check_body_limits
from .servers._types import ClientDisconnected

if TYPE_CHECKING:
    from .background._current import Queue
    from .metrics import Metrics
    from .security._jwt import JWTAuth

Lifespan = Callable[["App"], AbstractAsyncContextManager[Any] | AbstractContextManager[Any]]

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

_clock = time.perf_counter  # request latencies (`_route_measured`)


class App(
    RegistrationMixin,  # before Router: its `_register` hooks are the app's
    Router,
    MiddlewareMixin,
    # each part after those whose methods it declares for the type checker, so that the
    # docs (which read those declarations) show the real ones
    LifecycleMixin,
    ServingMixin,
    FeaturesMixin,
):
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
        #: None (the default): on in a process a server serves (`listen()`, `ambi run`,
        #: a Granian RSGI worker), off elsewhere, so that test suites starting many apps
        #: keep collecting normally; True or False decides it everywhere.
        self.freeze_gc: bool | None = None
        #: How many freed bytes glibc keeps in the process's heaps before giving memory back
        #: to the system (its M_TRIM_THRESHOLD; `ambi._app._heap`), set at startup. None
        #: (the default): 64 MiB in a process a server serves (as `freeze_gc`), on glibc;
        #: untouched elsewhere. A number of bytes sets it wherever the app starts
        #: (ConfigurationError without glibc); False leaves glibc's own policy.
        self.malloc_trim_threshold: int | bool | None = None
        self._init_middleware()
        self.dispatch = self._dispatch_unfrozen
        self._metrics: Metrics | None = None
        self._tracing = False
        self._dashboard: str | None = None
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
            compiled.latencies = compiled.metrics.by_code

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

    # Serving ------------------------------------------------------------------------------

    @running_route(_running)
    async def _route_measured(self, request: Request) -> Response:
        """`_route` with `enable_metrics()`: each route's requests timed around its whole
        pipeline and error handling, their latency appended by status code to the
        route's `ambi.metrics.RouteMetrics` (counted there later; in flight is read from
        the requests being served, not counted here).

        # PERF: measured here, chosen once by `freeze()`, rather than in a route stage: no
        # coroutine more per request, and an app without metrics runs `_route` untouched;
        # two float clock reads and one `list.append` (inlined by the interpreter) per
        # request, the histogram work at read time (bench_instructions "GET /json, metrics
        # on" against "GET /json"; RESULTS.md, session 9).
        """
        found = self._matcher.match(request.method, request.path)
        if found is None or isinstance(found, MethodNotAllowed):
            return await self._route(request)  # no route: not counted
        route = found.value
        start = _clock()
        try:
            request.path_params = found.params
            request.route = route
            set_current_request(request)
            response = await route.handle(request)
            if response.deferred:
                await response.prepare(self.engine)
        except ClientDisconnected:
            route.metrics.disconnected += 1
            raise  # nobody to answer: the adapter drops the request quietly
        except Exception as exc:
            response = await self._error_response(request, exc)
        except BaseException:
            route.metrics.cancelled += 1
            raise
        try:
            route.latencies[response.status_code].append(_clock() - start)
        except IndexError:  # a status code over 999
            route.metrics.record_status(response.status_code, _clock() - start)
        return response

    @property
    def _routing(self) -> Callable[[Request], Awaitable[Response]]:
        """`_route`, or `_route_measured` with `enable_metrics()`."""
        return self._route if self._metrics is None else self._route_measured

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
