"""Routing: path templates with converters, route definitions, routers and the matcher."""

from ._include import IncludeDefaults, check_responses
from ._matcher import Match, Matcher, MethodNotAllowed
from ._options import ROUTE_OPTIONS, RouteOptions, WebSocketOptions
from ._router import HTTP_METHODS, APIRoute, RouteDef, Router, WebSocketRouteDef
from ._template import CONVERTERS, Converter, PathTemplate, openapi_path, parse_template

APIRouter = Router
"""FastAPI's name for `Router`."""

__all__ = [
    "CONVERTERS",
    "HTTP_METHODS",
    "ROUTE_OPTIONS",
    "APIRoute",
    "APIRouter",
    "Converter",
    "IncludeDefaults",
    "Match",
    "Matcher",
    "MethodNotAllowed",
    "PathTemplate",
    "RouteDef",
    "RouteOptions",
    "Router",
    "WebSocketOptions",
    "WebSocketRouteDef",
    "check_responses",
    "openapi_path",
    "parse_template",
]
