"""Route definitions and `Router`: what users register, before the app compiles it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, TypeVar, Unpack

from ..exceptions import ConfigurationError
from ._include import IncludeDefaults
from ._template import join_paths, openapi_path

F = TypeVar("F", bound=Callable[..., Any])

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class RouteOptions(TypedDict, total=False):
    """Everything a route can be given besides its path and methods (one type for all verbs).

    An option not listed here is refused at registration (`ConfigurationError`).
    """

    name: str
    run: Literal["auto", "async", "thread", "inline", "process"]
    status_code: int
    response_model: Any
    response_class: type[Any]
    #: FastAPI's output filters of the response model (see `ambi._signature._response`).
    response_model_include: Any
    response_model_exclude: Any
    response_model_by_alias: bool
    response_model_exclude_unset: bool
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    tags: list[str]
    summary: str
    description: str
    response_description: str
    #: More responses for the OpenAPI document: `{404: {"model": Message}}` (FastAPI's).
    responses: Mapping[int | str, dict[str, Any]]
    deprecated: bool
    include_in_schema: bool
    operation_id: str
    #: `fn(route) -> str`: the operationId (and `Body_<id>` schema name) when none is given.
    generate_unique_id_function: Callable[[RouteDef], str]
    #: Merged into the route's OpenAPI operation (FastAPI's).
    openapi_extra: dict[str, Any]
    #: Whether a request for this path with(out) a trailing slash is redirected here
    #: (307); default: the router's, else the app's `redirect_slashes`.
    redirect_slashes: bool
    stream_body: bool
    #: The most bytes of request body this route accepts (an int, or a size such as
    #: "50MB"), above or below the app's `max_body_size`; 413 beyond it.
    max_body_size: int | str
    guards: Sequence[Any]
    #: Middleware around this route only: `mw(request, call_next)` functions (def or
    #: async def) or ambi `Middleware` (instances or classes); see ambi.middleware._route.
    middleware: Sequence[Any]
    dependencies: Sequence[Any]
    timeout: float  # seconds: past it the client gets a 504 (ambi.execution)
    max_concurrency: int  # requests of this route at once; one more gets a 503
    rate_limit: Any  # a RateLimitConfig, or a list of them (ambi.ratelimit)


ROUTE_OPTIONS = frozenset(RouteOptions.__optional_keys__ | RouteOptions.__required_keys__)
#: FastAPI route options ambi does not have, and what to do instead.
_NOT_IN_AMBI = {
    "callbacks": "OpenAPI callbacks are not generated; document them with openapi_extra=",
    "form_limits": "form limits are not configurable per route",
}


def check_route_options(options: Mapping[str, Any], where: str) -> None:
    """`ConfigurationError` for an option ambi does not know (never accepted and ignored)."""
    unknown = [key for key in options if key not in ROUTE_OPTIONS]
    if unknown:
        hints = "; ".join(f"{key}: {_NOT_IN_AMBI[key]}" for key in unknown if key in _NOT_IN_AMBI)
        raise ConfigurationError(
            f"{where}: unknown route option(s) {', '.join(sorted(unknown))}"
            + (f" ({hints})" if hints else "")
        )


class WebSocketOptions(TypedDict, total=False):
    """What a websocket route can be given besides its path."""

    name: str
    #: The largest message accepted, in bytes (default: the app's `websocket_max_size`);
    #: a bigger one closes the connection with 1009. None: no limit of ambi's own.
    max_size: int | None
    #: `Depends(...)` run before the handler, for their effects (as on HTTP routes).
    dependencies: Sequence[Any]
    #: Run on the handshake, before the accept (after the app's and the routers'); a
    #: refusal denies the handshake (403, or the guard's `HTTPException`).
    guards: Sequence[Any]
    #: Limits counted once per handshake (a `RateLimitConfig` or a list); 429 over one.
    rate_limit: Any


WEBSOCKET_OPTIONS = frozenset(WebSocketOptions.__optional_keys__)


def check_websocket_options(options: WebSocketOptions, where: str) -> None:
    """Refuse an option websocket routes do not have; check the guards and limits."""
    unknown = sorted(key for key in options if key not in WEBSOCKET_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown websocket route option(s) {', '.join(unknown)}; a websocket "
            f"route takes {', '.join(sorted(WEBSOCKET_OPTIONS))}"
        )
    if "guards" in options:
        options["guards"] = _checked_guards(options["guards"], f"{where}: guards=...")
    if options.get("rate_limit") is not None:
        options["rate_limit"] = _rate_limits(options["rate_limit"], f"{where}: rate_limit=")


@dataclass(slots=True)
class WebSocketRouteDef:
    """A websocket route as registered: path template, endpoint and options."""

    path: str
    endpoint: Callable[..., Any]
    options: WebSocketOptions = field(default_factory=WebSocketOptions)

    @property
    def name(self) -> str:
        name = self.options.get("name") or getattr(self.endpoint, "__name__", None)
        return str(name or "websocket")


@dataclass(slots=True)
class RouteDef:
    """A route as registered: path template, methods, endpoint and options."""

    path: str
    methods: frozenset[str]
    endpoint: Callable[..., Any]
    options: RouteOptions = field(default_factory=RouteOptions)

    @property
    def name(self) -> str:
        name = self.options.get("name") or getattr(self.endpoint, "__name__", None)
        return str(name or "route")

    # FastAPI's `APIRoute` attributes, for programs that read (or set) them on
    # `app.routes` (a custom `generate_unique_id_function`, operationIds from names).

    @property
    def path_format(self) -> str:
        """The path as OpenAPI writes it (`/items/{id}` for `/items/{id:int}`)."""
        return openapi_path(self.path)

    @property
    def tags(self) -> list[str]:
        return list(self.options.get("tags", []))

    @property
    def summary(self) -> str | None:
        return self.options.get("summary")

    @property
    def description(self) -> str | None:
        return self.options.get("description")

    @property
    def operation_id(self) -> str | None:
        return self.options.get("operation_id")

    @operation_id.setter
    def operation_id(self, value: str) -> None:
        self.options["operation_id"] = value

    @property
    def deprecated(self) -> bool:
        return bool(self.options.get("deprecated", False))

    @property
    def include_in_schema(self) -> bool:
        return bool(self.options.get("include_in_schema", True))

    @property
    def status_code(self) -> int | None:
        return self.options.get("status_code")

    @property
    def response_model(self) -> Any:
        return self.options.get("response_model")


APIRoute = RouteDef
"""FastAPI's name for a route definition (`isinstance(route, APIRoute)` on `app.routes`)."""


def _normalise_methods(methods: Iterable[str]) -> frozenset[str]:
    if isinstance(methods, str):
        raise ConfigurationError(f"methods must be a list of names, not the string {methods!r}")
    upper = frozenset(m.upper() for m in methods)
    unknown = upper - HTTP_METHODS
    if not upper or unknown:
        raise ConfigurationError(
            f"unknown HTTP method(s) {sorted(unknown) or methods!r}; use {sorted(HTTP_METHODS)}"
        )
    return upper


def _checked_guards(guards: Sequence[Any], where: str) -> list[Callable[..., Any]]:
    if isinstance(guards, str) or not isinstance(guards, Sequence):
        raise ConfigurationError(f"{where} takes a list of callables, not {guards!r}")
    for guard in guards:
        if not callable(guard):
            raise ConfigurationError(
                f"{where}: a guard is a callable taking the request, not {guard!r}"
            )
    return list(guards)


def _as_list(value: Any) -> list[Any]:
    """An option given as one value or as a list of them, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _middleware(value: Any, where: str) -> list[Any]:
    from ..middleware._route import checked_route_middleware

    return checked_route_middleware(value, where)


def _prepended(options: Mapping[str, Any], extra: Mapping[str, list[Any]]) -> dict[str, Any]:
    """A copy of `options` with each non-empty list of `extra` in front of the option's
    own value (a single value, or a list)."""
    merged = dict(options)
    for key, values in extra.items():
        if values:
            merged[key] = [*values, *_as_list(merged.get(key))]
    return merged


def _rate_limits(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    from ..ratelimit._config import check_rate_limits

    return check_rate_limits(value, where)


class Router:
    """A group of routes under a common prefix, included into an app with `include_router`.

    Router-wide settings (FastAPI's `APIRouter` ones) apply to its routes when it is
    included, under what a route sets itself: `tags` and `dependencies` come first,
    `responses` are merged under the route's, `default_response_class` is used by routes
    without a `response_class`, `deprecated=True` and `include_in_schema=False` apply to
    every route, `generate_unique_id_function` names the operations without an
    `operation_id`, `redirect_slashes` (None: the app's) decides the trailing-slash
    redirect for its routes.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Sequence[str] = (),
        dependencies: Sequence[Any] = (),
        guards: Sequence[Callable[..., Any]] = (),
        rate_limit: Any = None,
        middleware: Sequence[Any] = (),
        default_response_class: type[Any] | None = None,
        responses: Mapping[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[RouteDef], str] | None = None,
        redirect_slashes: bool | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(f"router prefix {prefix!r} must start and not end with '/'")
        self.prefix = prefix
        self.tags = list(tags)
        self.dependencies = list(dependencies)
        self.guards = _checked_guards(guards, "Router(guards=...)")
        #: Limits for every route of this router (each route counts on its own budget).
        self.rate_limits = _rate_limits(rate_limit, "Router(rate_limit=...)")
        #: Middleware around every HTTP route of this router (inside the app's).
        #: (Not `middleware`: on an App that name is the `@app.middleware("http")` decorator.)
        self.route_middleware = _middleware(middleware, "Router(middleware=...)")
        self.routes: list[RouteDef] = []
        self.websocket_routes: list[WebSocketRouteDef] = []
        self.defaults = IncludeDefaults.checked(
            "Router",
            default_response_class=default_response_class,
            responses=responses,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
            redirect_slashes=redirect_slashes,
        )

    @property
    def redirect_slashes(self) -> bool | None:
        return self.defaults.redirect_slashes

    @property
    def default_response_class(self) -> type[Any] | None:
        return self.defaults.default_response_class

    # Registration -------------------------------------------------------------------------

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Iterable[str] = ("GET",),
        **options: Unpack[RouteOptions],
    ) -> None:
        """Register `endpoint` for `methods` at `path` (relative to this router's prefix)."""
        route = RouteDef(join_paths(self.prefix, path), _normalise_methods(methods), endpoint)
        check_route_options(options, f"{'/'.join(sorted(route.methods))} {route.path}")
        where = f"{route.path}"
        if "guards" in options:
            options["guards"] = _checked_guards(options["guards"], f"{where}: guards=...")
        if options.get("rate_limit") is not None:
            from ..ratelimit._config import check_rate_limits

            options["rate_limit"] = check_rate_limits(
                options["rate_limit"], f"{where}: rate_limit="
            )
        if "middleware" in options:
            options["middleware"] = _middleware(options["middleware"], f"{where}: middleware=")
        route.options = options
        self._register(route)

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """FastAPI's spelling of `add_route` (methods default to GET)."""
        self.add_route(path, endpoint, methods or ("GET",), **options)

    def api_route(
        self, path: str, *, methods: Iterable[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """FastAPI's spelling of `route` (methods default to GET)."""
        return self.route(path, methods or ("GET",), **options)

    def _register(self, route: RouteDef) -> None:
        self.routes.append(route)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], **options: Unpack[WebSocketOptions]
    ) -> None:
        """Register the `async def` websocket handler `endpoint` at `path`."""
        route = WebSocketRouteDef(join_paths(self.prefix, path), endpoint, options)
        check_websocket_options(options, f"WEBSOCKET {route.path}")
        self._register_websocket(route)

    def _register_websocket(self, route: WebSocketRouteDef) -> None:
        self.websocket_routes.append(route)

    def websocket(self, path: str, **options: Unpack[WebSocketOptions]) -> Callable[[F], F]:
        """Decorator form of `add_websocket_route`: `@app.websocket("/ws/{room}")`."""

        def decorator(endpoint: F) -> F:
            self.add_websocket_route(path, endpoint, **options)
            return endpoint

        return decorator

    def route(
        self, path: str, methods: Iterable[str] = ("GET",), **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """Decorator form of `add_route`."""

        def decorator(endpoint: F) -> F:
            self.add_route(path, endpoint, methods, **options)
            return endpoint

        return decorator

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("DELETE",), **options)

    def head(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("HEAD",), **options)

    def options(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        return self.route(path, ("OPTIONS",), **options)

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Any] = (),
        guards: Sequence[Callable[..., Any]] = (),
        rate_limit: Any = None,
        middleware: Sequence[Any] = (),
        default_response_class: type[Any] | None = None,
        responses: Mapping[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[RouteDef], str] | None = None,
    ) -> None:
        """Add every route of `router`, under `prefix`, with extra tags, dependencies,
        guards (run before the router's and the route's own), rate limits and middleware
        (outside the router's and the route's own: ambi.middleware._route); the other
        settings as on `Router` (a route's own, then the router's, then these)."""
        if router is self:
            raise ConfigurationError("a router cannot include itself")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(f"include prefix {prefix!r} must start and not end with '/'")
        # What the include and the router add, in front of each route's own (outermost first).
        extra: dict[str, list[Any]] = {
            "tags": [*tags, *router.tags],
            "dependencies": [*dependencies, *router.dependencies],
            "guards": [*_checked_guards(guards, "include_router(guards=...)"), *router.guards],
            "rate_limit": [
                *_rate_limits(rate_limit, "include_router(rate_limit=...)"),
                *router.rate_limits,
            ],
            "middleware": [
                *_middleware(middleware, "include_router(middleware=...)"),
                *router.route_middleware,
            ],
        }
        given = IncludeDefaults.checked(
            "include_router",
            default_response_class=default_response_class,
            responses=responses,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
        )
        for route in router.routes:
            options = RouteOptions(**_prepended(route.options, extra))  # type: ignore[typeddict-item]
            router.defaults.apply(options, given)
            path = join_paths(self.prefix, join_paths(prefix, route.path))
            self._register(RouteDef(path, route.methods, route.endpoint, options))
        # Websocket routes take dependencies, guards and rate limits (not HTTP middleware).
        ws_extra = {key: extra[key] for key in ("dependencies", "guards", "rate_limit")}
        for ws_route in router.websocket_routes:
            path = join_paths(self.prefix, join_paths(prefix, ws_route.path))
            ws_options = WebSocketOptions(**_prepended(ws_route.options, ws_extra))  # type: ignore[typeddict-item]
            self._register_websocket(WebSocketRouteDef(path, ws_route.endpoint, ws_options))
