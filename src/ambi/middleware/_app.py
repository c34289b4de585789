"""The middleware half of `App`: registering middleware and hooks, enabling the built-ins,
and composing the chain at startup (`compose`)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..exceptions import ConfigurationError
from ._asgi import ASGIApp, rsgi_dispatch
from ._builtin import Builtin
from ._chain import Chain, LayerFactory, LayerOrder, Next
from ._compression import Compression
from ._cors import CORS
from ._hosts import HTTPSRedirect, ProxyHeaders, TrustedHosts
from ._logging import AccessLog
from ._request_id import RequestId
from ._route import SyncAdmission
from ._security import SecurityHeaders
from ._user import (
    Hook,
    Middleware,
    UserMiddleware,
    check_middleware_function,
    hooks_layer,
    make_class_middleware,
)

if TYPE_CHECKING:
    from ..app import App
    from ..execution import Engine

F = TypeVar("F", bound=Callable[..., Any])


class MiddlewareMixin:
    """Middleware registration for `App` (see `ambi.middleware` for the order)."""

    engine: Engine
    _frozen: bool

    def _init_middleware(self) -> None:
        self._layers = Chain()
        self._user_middleware: list[UserMiddleware] = []
        self._before_hooks: list[Hook] = []
        self._after_hooks: list[Hook] = []
        self._asgi_middleware: list[tuple[type[Any], dict[str, Any]]] = []
        self._enabled: dict[str, Any] = {}
        #: The bound on requests inside sync middleware, app and route (sized at freeze).
        self._sync_admission = SyncAdmission()
        #: The ASGI middleware stack around the app, once built (first call or startup).
        self._asgi_entry: ASGIApp | None = None
        #: Over RSGI, with ASGI middleware: requests go through it, bridged.
        self._rsgi_via_asgi = rsgi_dispatch(self)  # type: ignore[arg-type]

    def _check_open(self, what: str) -> None:
        if self._frozen or self._asgi_entry is not None:
            raise ConfigurationError(f"{what}: middleware must be set up before the app starts")

    # Middleware users write ---------------------------------------------------------------

    def middleware(self, kind: Literal["http"] = "http") -> Callable[[F], F]:
        """Register `mw(request, call_next)` (`async def`, or `def`: it runs in the thread
        pool and its `call_next` blocks) around every request; it returns a `Response`."""
        if kind != "http":
            raise ConfigurationError(f'middleware({kind!r}): only "http" middleware exists')

        def decorator(fn: F) -> F:
            self.add_middleware_function(fn)
            return fn

        return decorator

    def add_middleware_function(self, fn: Callable[..., Any]) -> None:
        self._check_open("middleware")
        check_middleware_function(fn, "middleware")
        self._user_middleware.append(UserMiddleware(fn, self.engine))

    def add_middleware(self, cls: type[Any], /, **options: Any) -> None:
        """Add a middleware class with its options: an ambi `Middleware` subclass runs in
        the native chain; any other class is taken as ASGI middleware (`cls(app,
        **options)`, as Starlette's and OpenTelemetry's) and wraps the whole app."""
        self._check_open("add_middleware")
        if not inspect.isclass(cls):
            raise ConfigurationError(
                f"add_middleware takes a class, not {cls!r}; register a function with "
                '@app.middleware("http")'
            )
        if issubclass(cls, Middleware):
            instance = make_class_middleware(cls, options)
            self._user_middleware.append(UserMiddleware(instance.dispatch, self.engine))
            return
        try:
            inspect.signature(cls).bind(None, **options)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{cls.__qualname__} is not an ambi Middleware subclass, so it is taken as "
                f"ASGI middleware, called as {cls.__qualname__}(app, **options): {exc}"
            ) from None
        self._asgi_middleware.append((cls, options))

    def before_request(self, fn: F) -> F:
        """Run `fn(request)` (or `fn()`) before routing; a value it returns is the response
        (routing and the handler are skipped; after_request hooks still run)."""
        self._check_open("before_request")
        self._before_hooks.append(Hook(fn, self.engine, after=False))
        return fn

    def after_request(self, fn: F) -> F:
        """Run `fn(request, response)` (or `fn(response)`) on every response, error
        responses included; a `Response` it returns replaces the response."""
        self._check_open("after_request")
        self._after_hooks.append(Hook(fn, self.engine, after=True))
        return fn

    # The internal API for features --------------------------------------------------------

    def add_layer(self, order: LayerOrder, factory: LayerFactory) -> None:
        """Put a layer into the app chain at `order` (see `ambi.middleware.LayerOrder`).

        `factory(app, call_next)` runs once at startup and returns the layer's handler,
        `async def handler(request) -> Response` (or `call_next` itself: no layer). What
        the handler raises becomes the app's error response.
        """
        self._check_open("add_layer")
        if not isinstance(order, LayerOrder):
            raise ConfigurationError(f"add_layer: order must be a LayerOrder, not {order!r}")
        self._layers.add(order, factory)

    def _enable(self, name: str, order: LayerOrder, config: Builtin) -> None:
        self._check_open(f"enable_{name}")
        if name in self._enabled:
            raise ConfigurationError(f"enable_{name}() was called twice; call it once")
        self._enabled[name] = config
        self._layers.add(order, config.layer, guard=False)

    # The built-ins: one call each ---------------------------------------------------------

    def enable_cors(
        self,
        allow_origins: Sequence[str] | str = "*",
        *,
        allow_origin_regex: str | None = None,
        allow_methods: Sequence[str] | str = "*",
        allow_headers: Sequence[str] | str = "*",
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        """Answer CORS preflights for every path and add CORS headers to the responses of
        allowed origins (see `ambi.middleware._cors`). Defaults allow any origin without
        credentials."""
        config = CORS(
            allow_origins,
            allow_origin_regex=allow_origin_regex,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        self._enable("cors", LayerOrder.CORS, config)

    def enable_gzip(
        self,
        minimum_size: int = 500,
        *,
        compresslevel: int = 6,
        encodings: Sequence[str] | None = None,
    ) -> None:
        """Compress responses of `minimum_size` bytes or more for clients that accept it:
        gzip, and br / zstd when their packages are installed (`encodings=` narrows)."""
        config = Compression(minimum_size, compresslevel=compresslevel, encodings=encodings)
        self._enable("gzip", LayerOrder.COMPRESSION, config)

    def enable_logging(
        self,
        format: Literal["plain", "json"] = "plain",
        *,
        logger: str | logging.Logger = "ambi.access",
        level: int = logging.INFO,
    ) -> None:
        """Log one access line per request (plain text or JSON) to `logger`."""
        self._enable("logging", LayerOrder.OBSERVE, AccessLog(format, logger=logger, level=level))

    def enable_request_id(
        self, header: str = "X-Request-ID", *, generator: Callable[[], str] | None = None
    ) -> None:
        """Give every request an id (a valid incoming one, or a new one), echo it on the
        response; `ambi.middleware.request_id()` reads it while the request is served."""
        self._enable("request_id", LayerOrder.REQUEST_ID, RequestId(header, generator))

    def enable_trusted_hosts(self, hosts: Sequence[str]) -> None:
        """Answer 400 to requests whose `Host` is not one of `hosts` (`*.example.com`
        matches subdomains)."""
        self._enable("trusted_hosts", LayerOrder.TRUSTED_HOSTS, TrustedHosts(hosts))

    def enable_security_headers(
        self,
        *,
        hsts_max_age: int | None = 31_536_000,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        content_type_options: bool = True,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        content_security_policy: str | None = None,
    ) -> None:
        """Add HSTS (HTTPS only), X-Content-Type-Options, X-Frame-Options, Referrer-Policy
        and an optional Content-Security-Policy to responses that do not set them."""
        config = SecurityHeaders(
            hsts_max_age=hsts_max_age,
            hsts_include_subdomains=hsts_include_subdomains,
            hsts_preload=hsts_preload,
            content_type_options=content_type_options,
            frame_options=frame_options,
            referrer_policy=referrer_policy,
            content_security_policy=content_security_policy,
        )
        self._enable("security_headers", LayerOrder.SECURITY_HEADERS, config)

    def enable_proxy_headers(self, trusted: Sequence[str]) -> None:
        """Take `request.client` from X-Forwarded-For and `request.scheme` from
        X-Forwarded-Proto, when the peer is one of the `trusted` proxies (addresses,
        networks, or "*")."""
        self._enable("proxy_headers", LayerOrder.PROXY_HEADERS, ProxyHeaders(trusted))

    def enable_https_redirect(self, status_code: int = 307) -> None:
        """Redirect plain-HTTP requests to the same URL over HTTPS."""
        self._enable("https_redirect", LayerOrder.HTTPS_REDIRECT, HTTPSRedirect(status_code))

    # Composition --------------------------------------------------------------------------

    @property
    def has_asgi_middleware(self) -> bool:
        return bool(self._asgi_middleware)

    def _sync_middleware_count(self) -> int:
        return sum(mw.is_sync for mw in self._user_middleware)

    def _compose(self, core: Next) -> Next:
        """The app chain around `core` (routing + the route pipeline), or `core` itself."""
        user = self._user_middleware
        if not (self._layers or user or self._before_hooks or self._after_hooks):
            return core
        app: App = self  # type: ignore[assignment]
        chain = self._layers.copy()
        if self._before_hooks or self._after_hooks:
            befores, afters = self._before_hooks, self._after_hooks
            chain.add(
                LayerOrder.HOOKS,
                lambda app, call_next: hooks_layer(app, call_next, befores, afters),
                guard=False,
            )
        sync = [mw for mw in user if mw.is_sync]
        admission = self._sync_admission.semaphore if sync else None
        for mw in user:
            gate = admission if sync and mw is sync[-1] else None
            chain.add(
                LayerOrder.USER,
                lambda app, call_next, mw=mw, gate=gate: mw.layer(app, call_next, gate),  # type: ignore[misc]
                guard=False,
                last_outermost=True,
            )
        return chain.compose(app, core)
