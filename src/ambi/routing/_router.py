"""Route definitions and `Router`: what users register, before the app compiles it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, Unpack

from ..exceptions import ConfigurationError
from ._include import IncludeDefaults
from ._options import (
    RouteOptions,
    WebSocketOptions,
    check_route_options,
    check_websocket_options,
    checked_guards,
    prepended,
    rate_limits,
    route_middleware,
)
from ._template import join_paths, openapi_path

F = TypeVar("F", bound=Callable[..., Any])

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


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
        self.guards = checked_guards(guards, "Router(guards=...)")
        #: Limits for every route of this router (each route counts on its own budget).
        self.rate_limits = rate_limits(rate_limit, "Router(rate_limit=...)")
        #: Middleware around every HTTP route of this router (inside the app's).
        #: (Not `middleware`: on an App that name is the `@app.middleware("http")` decorator.)
        self.route_middleware = route_middleware(middleware, "Router(middleware=...)")
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
            options["guards"] = checked_guards(options["guards"], f"{where}: guards=...")
        if options.get("rate_limit") is not None:
            options["rate_limit"] = rate_limits(options["rate_limit"], f"{where}: rate_limit=")
        if "middleware" in options:
            options["middleware"] = route_middleware(options["middleware"], f"{where}: middleware=")
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
            "guards": [*checked_guards(guards, "include_router(guards=...)"), *router.guards],
            "rate_limit": [
                *rate_limits(rate_limit, "include_router(rate_limit=...)"),
                *router.rate_limits,
            ],
            "middleware": [
                *route_middleware(middleware, "include_router(middleware=...)"),
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
            options = RouteOptions(**prepended(route.options, extra))  # type: ignore[typeddict-item]
            router.defaults.apply(options, given)
            path = join_paths(self.prefix, join_paths(prefix, route.path))
            self._register(RouteDef(path, route.methods, route.endpoint, options))
        # Websocket routes take dependencies, guards and rate limits (not HTTP middleware).
        ws_extra = {key: extra[key] for key in ("dependencies", "guards", "rate_limit")}
        for ws_route in router.websocket_routes:
            path = join_paths(self.prefix, join_paths(prefix, ws_route.path))
            ws_options = WebSocketOptions(**prepended(ws_route.options, ws_extra))  # type: ignore[typeddict-item]
            self._register_websocket(WebSocketRouteDef(path, ws_route.endpoint, ws_options))
