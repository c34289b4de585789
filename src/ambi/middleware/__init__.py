"""Middleware: the app chain, the middleware users write, ASGI middleware, the built-ins.

Users turn the built-ins on with one call each on the app (`app.enable_cors()`,
`enable_gzip`, `enable_logging`, `enable_request_id`, `enable_trusted_hosts`,
`enable_security_headers`, `enable_proxy_headers`, `enable_https_redirect`) and add their
own with `@app.middleware("http")`, `app.add_middleware(cls, **options)` (a `Middleware`
subclass here, or any ASGI middleware class), `@app.before_request` and
`@app.after_request`. Around some routes only: `middleware=[...]` on a route, a `Router`
or `include_router` (functions and ambi `Middleware`; `_route`). The order of everything
is drawn in `_chain`'s docstring.

Websocket handshakes are not HTTP requests with a response: ambi middleware (app, router
or route) does not wrap them; ASGI middleware does (over RSGI too, bridged).

For other ambi features (sessions, app-wide rate limits, metrics):
`app.add_layer(LayerOrder.X, factory)` with `factory(app, call_next) -> handler`, run once
at startup; `handler(request) -> Response` is the feature's layer (return `call_next`
to stay out). Layers see every response, error responses included; an exception a layer
raises becomes the app's error response. Built once, composed once: a request pays for
the layers that exist, and nothing for the rest.
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
