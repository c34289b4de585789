"""Routing: path templates with converters, route definitions, routers and the matcher."""

from ._matcher import Match, Matcher, MethodNotAllowed
from ._router import (
    HTTP_METHODS,
    RouteDef,
    RouteOptions,
    Router,
    WebSocketOptions,
    WebSocketRouteDef,
)
from ._template import CONVERTERS, Converter, PathTemplate, parse_template

__all__ = [
    "CONVERTERS",
    "HTTP_METHODS",
    "Converter",
    "Match",
    "Matcher",
    "MethodNotAllowed",
    "PathTemplate",
    "RouteDef",
    "RouteOptions",
    "Router",
    "WebSocketOptions",
    "WebSocketRouteDef",
    "parse_template",
]
