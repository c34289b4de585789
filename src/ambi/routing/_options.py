"""What a route and a websocket route can be given besides their path (one options type
for every verb), and the checks and merges of those options at registration."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from ._router import RouteDef

__all__ = [
    "ROUTE_OPTIONS",
    "WEBSOCKET_OPTIONS",
    "RouteOptions",
    "WebSocketOptions",
    "as_list",
    "check_route_options",
    "check_websocket_options",
    "checked_guards",
    "prepended",
    "rate_limits",
    "route_middleware",
]


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
        options["guards"] = checked_guards(options["guards"], f"{where}: guards=...")
    if options.get("rate_limit") is not None:
        options["rate_limit"] = rate_limits(options["rate_limit"], f"{where}: rate_limit=")


def checked_guards(guards: Sequence[Any], where: str) -> list[Callable[..., Any]]:
    if isinstance(guards, str) or not isinstance(guards, Sequence):
        raise ConfigurationError(f"{where} takes a list of callables, not {guards!r}")
    for guard in guards:
        if not callable(guard):
            raise ConfigurationError(
                f"{where}: a guard is a callable taking the request, not {guard!r}"
            )
    return list(guards)


def as_list(value: Any) -> list[Any]:
    """An option given as one value or as a list of them, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def route_middleware(value: Any, where: str) -> list[Any]:
    from ..middleware._route import checked_route_middleware

    return checked_route_middleware(value, where)


def prepended(options: Mapping[str, Any], extra: Mapping[str, list[Any]]) -> dict[str, Any]:
    """A copy of `options` with each non-empty list of `extra` in front of the option's
    own value (a single value, or a list)."""
    merged = dict(options)
    for key, values in extra.items():
        if values:
            merged[key] = [*values, *as_list(merged.get(key))]
    return merged


def rate_limits(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    from ..ratelimit._config import check_rate_limits

    return check_rate_limits(value, where)
