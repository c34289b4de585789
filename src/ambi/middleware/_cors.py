"""`app.enable_cors(...)`: Cross-Origin Resource Sharing, native.

- A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered
  here, for any path (routes without an OPTIONS handler, POST-only paths, unknown paths):
  it never reaches routing or a handler. An allowed one gets 204 with the allow headers;
  a refused one a 400 JSON error with no CORS headers.
- Any other request goes on; if its `Origin` is allowed, the response (error responses
  included) gets `Access-Control-Allow-Origin` (and credentials / expose headers).
- A disallowed origin gets no CORS headers at all.
- The answer never pairs credentials with a wildcard: with `allow_credentials=True` and
  `allow_origins="*"`, the request's origin is echoed instead of `*`.
- `Vary: Origin` is on every response whose CORS headers depend on the origin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError, HTTPException
from ..http import Request, Response
from ..routing import HTTP_METHODS
from ._builtin import Builtin, check_names
from ._chain import Next
from ._headers import add_vary, put_headers, request_header

if TYPE_CHECKING:
    from ..app import App

_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$", re.IGNORECASE)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Request headers a browser never asks permission for (the CORS safelist).
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})
_ALL_METHODS = ", ".join(sorted(HTTP_METHODS - {"TRACE"}))


def _origins(value: Sequence[str] | str) -> tuple[bool, frozenset[str]]:
    if value == "*":
        return True, frozenset()
    origins = check_names(value, "allow_origins")
    if "*" in origins:
        return True, frozenset()
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigurationError(
                f"allow_origins: {origin!r} is not an origin (scheme://host[:port], no path)"
            )
    return False, frozenset(o.lower() for o in origins)


def _methods(value: Sequence[str] | str) -> tuple[bool, frozenset[str]]:
    if value == "*":
        return True, frozenset(HTTP_METHODS)
    methods = frozenset(m.upper() for m in check_names(value, "allow_methods"))
    if "*" in methods:
        return True, frozenset(HTTP_METHODS)
    unknown = methods - HTTP_METHODS
    if unknown:
        raise ConfigurationError(f"allow_methods: unknown method(s) {sorted(unknown)}")
    return False, methods


def _headers(value: Sequence[str] | str, what: str) -> tuple[bool, tuple[str, ...]]:
    if value == "*":
        return True, ()
    names = check_names(value, what)
    if "*" in names:
        return True, ()
    for name in names:
        if not _TOKEN.match(name):
            raise ConfigurationError(f"{what}: {name!r} is not a header name")
    return False, tuple(n.lower() for n in names)


#: Allowed origins whose answer headers are kept (a flood of distinct ones is not).
_KNOWN_ORIGINS = 64


class CORS(Builtin):
    """The checked configuration of `enable_cors`, and its layer."""

    def __init__(
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
        self.any_origin, self.origins = _origins(allow_origins)
        try:
            self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        except re.error as exc:
            raise ConfigurationError(f"allow_origin_regex: {exc}") from None
        self.any_method, self.methods = _methods(allow_methods)
        self.any_header, headers = _headers(allow_headers, "allow_headers")
        self.headers = frozenset(headers) | _SAFELISTED
        expose_any, expose = _headers(expose_headers, "expose_headers")
        if expose_any:
            raise ConfigurationError("expose_headers: name the headers (a '*' is not exposed)")
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise ConfigurationError(f"max_age must be a whole number of seconds >= 0: {max_age!r}")
        if not isinstance(allow_credentials, bool):
            raise ConfigurationError(
                f"allow_credentials must be True or False: {allow_credentials!r}"
            )
        self.credentials = allow_credentials
        # What every allowed answer carries, worked out once.
        self.echo_origin = not self.any_origin or allow_credentials
        self.simple: list[tuple[str, str]] = []
        if allow_credentials:
            self.simple.append(("access-control-allow-credentials", "true"))
        if expose:
            self.simple.append(("access-control-expose-headers", ", ".join(expose)))
        self.preflight: list[tuple[str, str]] = [*self.simple]
        methods = _ALL_METHODS if self.any_method else ", ".join(sorted(self.methods))
        self.preflight.append(("access-control-allow-methods", methods))
        self.preflight.append(("access-control-max-age", str(max_age)))
        self.allow_headers_value = ", ".join(sorted(self.headers))

    def allowed(self, origin: str) -> bool:
        if self.any_origin or origin.lower() in self.origins:
            return True
        return self.origin_regex is not None and self.origin_regex.fullmatch(origin) is not None

    async def _refuse(self, app: App, request: Request, why: str) -> Response:
        return await app._error_response(
            request, HTTPException(400, f"CORS preflight refused: {why}")
        )

    async def _answer_preflight(self, app: App, request: Request, origin: str) -> Response:
        headers = request.headers
        if not self.allowed(origin):
            return await self._refuse(app, request, "origin not allowed")
        method = headers.get("access-control-request-method", "").upper()
        if method not in self.methods:
            return await self._refuse(app, request, f"method {method or '(none)'} not allowed")
        asked = headers.get("access-control-request-headers", "")
        names = [n.strip().lower() for n in asked.split(",") if n.strip()]
        if self.any_header:
            allow_headers = ", ".join(names)
        else:
            refused = [n for n in names if n not in self.headers]
            if refused:
                return await self._refuse(
                    app, request, f"header(s) {', '.join(refused)} not allowed"
                )
            allow_headers = self.allow_headers_value
        response = Response(b"", 204)
        items = response.headers
        items.add("access-control-allow-origin", origin if self.echo_origin else "*")
        for name, value in self.preflight:
            items.add(name, value)
        if allow_headers:
            items.add("access-control-allow-headers", allow_headers)
        if self.echo_origin:
            items.add("vary", "Origin")
        return response

    def layer(self, app: App, call_next: Next) -> Next:
        echo = self.echo_origin
        simple = self.simple
        allowed = self.allowed
        preflight = self._answer_preflight
        names = frozenset({"access-control-allow-origin", "vary", *(n for n, _ in simple)})
        vary = [("vary", "Origin")] if echo else []
        star = [("access-control-allow-origin", "*"), *simple]
        # PERF: the headers for an origin allowed before, made once (bounded, as the known
        # hosts are): one dict lookup per request (bench_realistic's mix).
        answers: dict[str, list[tuple[str, str]]] = {}

        def answer_for(origin: str) -> list[tuple[str, str]] | None:
            if not allowed(origin):
                return None
            answer = [("access-control-allow-origin", origin), *simple, *vary] if echo else star
            if len(answers) < _KNOWN_ORIGINS:
                answers[origin] = answer
            return answer

        async def cors(request: Request) -> Response:
            origin = request_header(request, "origin")
            if origin is None:
                response = await call_next(request)
                if echo:
                    add_vary(response.headers, "Origin")
                return response
            if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
                return await preflight(app, request, origin)
            response = await call_next(request)
            answer = answers.get(origin) or answer_for(origin)
            if answer is not None:
                put_headers(response.headers, answer, names)
            elif echo:
                add_vary(response.headers, "Origin")
            return response

        return cors
