"""Middleware: the app chain, middleware users write, ASGI middleware, and the built-ins.

See `_chain` for the order of everything in the chain.
"""

from ._asgi import ScopeRoute, route_span_details
from ._chain import LayerFactory, LayerOrder, Next
from ._request_id import RequestIdFilter, request_id
from ._user import Middleware

__all__ = [
    "LayerFactory",
    "LayerOrder",
    "Middleware",
    "Next",
    "RequestIdFilter",
    "ScopeRoute",
    "request_id",
    "route_span_details",
]
