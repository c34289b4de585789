"""The features `App` switches on with `enable_*`: JWT, rate limits, the task queue, the
cache store, sessions, metrics, the status page, tracing; the readers of what is measured
(`handler_stats()`, `metrics()`); and `add_stage`, through which a feature puts a stage
into the pipelines of the routes it applies to."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from .._pipeline import StageFactory, StageOrder
from ..cache import cache_stage
from ..exceptions import ConfigurationError
from ..execution import Invoker
from ..metrics import app_metrics, handler_stats
from ..middleware._chain import LayerFactory, LayerOrder, Next
from ..ratelimit._stage import AppRateLimit

if TYPE_CHECKING:
    from ..app import App
    from ..background._current import Queue
    from ..execution import Engine
    from ..http import Request, Response
    from ..metrics import Metrics
    from ..security._jwt import JWTAuth
    from ..sessions import SessionOptions
    from ..stores import Store


class FeaturesMixin:
    """The `enable_*` features of `App` (the middleware built-ins: `MiddlewareMixin`)."""

    engine: Engine
    _frozen: bool
    _stages: list[tuple[StageOrder, StageFactory]]
    rate_limits: list[AppRateLimit]
    jwt: JWTAuth | None
    _tasks: Queue | None
    _hooks: dict[str, list[Invoker]]
    _metrics: Metrics | None
    _enabled: dict[str, Any]

    if TYPE_CHECKING:

        async def _route(self, request: Request) -> Response: ...

        def add_event_handler(self, event: str, fn: Callable[[], Any]) -> None: ...

        def add_layer(self, order: LayerOrder, factory: LayerFactory) -> None: ...

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
        from ..security._jwt import JWTAuth

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
        from ..background._setup import build_queue

        if self._tasks is not None:
            raise ConfigurationError("background tasks are already enabled on this app")
        queue = build_queue(
            self,  # type: ignore[arg-type]
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
        from ..cache import app_cache

        app_cache(self).set_store(store)  # type: ignore[arg-type]

    def enable_sessions(self, secret_key: str | bytes, **options: Unpack[SessionOptions]) -> None:
        """`request.session`: signed-cookie sessions, or server-side ones in `store=`
        (see `ambi.sessions`). The session layer sits in the app middleware chain at
        `LayerOrder.SESSIONS` (inside CORS and compression, around user middleware)."""
        from ..sessions import SessionLayer

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
        from ..metrics import enable_metrics

        self._metrics = enable_metrics(self, path, flush_interval, guards)  # type: ignore[arg-type]

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
        from ..metrics._dashboard import enable_dashboard

        enable_dashboard(self, path, guards, local_only, interval)  # type: ignore[arg-type]

    def enable_tracing(self, tracer_provider: Any = None) -> None:
        """One OpenTelemetry server span per request, named by route template, continuing
        an incoming `traceparent` (needs the `tracing` extra). `tracer_provider`: the
        global one by default."""
        from ..metrics._tracing import enable_tracing

        enable_tracing(self, tracer_provider)  # type: ignore[arg-type]

    def handler_stats(self) -> dict[str, Any]:
        """How many handlers of each execution kind, and each route's kind."""
        return handler_stats(self)  # type: ignore[arg-type]

    def metrics(self) -> dict[str, Any]:
        """Requests, status classes, latency percentiles and in flight per route (with
        `enable_metrics`), the handler kinds and the pools."""
        return app_metrics(self)  # type: ignore[arg-type]
