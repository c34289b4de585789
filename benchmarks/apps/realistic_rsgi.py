"""The realistic-app scenario (`realistic.py`) by hand on Granian's RSGI: the ceiling.

The same work as the framework apps, written the fastest plain way: the 63 routes found by
dict lookups (static paths by path; dynamic ones by their resource and shape, the id
checked to be an integer), CORS for the allowed origin (with credentials, `Vary: Origin`,
preflights answered), a valid incoming X-Request-ID or a new one on every response, the
bearer-token check on every route but /health and /version (401 without it), the query's
`limit` and the checkout body validated by hand, JSON through orjson.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import orjson
from granian.rsgi import HTTPProtocol, Scope  # type: ignore[attr-defined]

from . import realistic as spec

Answer = tuple[int, Any]
JSON = ("content-type", "application/json")
CORS = [
    ("access-control-allow-origin", spec.ORIGIN),
    ("access-control-allow-credentials", "true"),
    ("vary", "Origin"),
]
PREFLIGHT = [
    *CORS,
    ("access-control-allow-methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
    ("access-control-max-age", "600"),
]
_VALID_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}").fullmatch
NOT_FOUND: Answer = (404, {"detail": "Not Found"})
UNAUTHORIZED: Answer = (401, {"detail": "not authenticated"})
INVALID: Answer = (422, {"detail": "invalid request"})


class _Ids:
    """32 random hex digits per request, from a pool refilled by one os.urandom call."""

    def __init__(self) -> None:
        self.pool = b""
        self.at = 0

    def __call__(self) -> str:
        at = self.at
        if at >= len(self.pool):
            self.pool, at = os.urandom(4096), 0
        self.at = at + 16
        return self.pool[at : at + 16].hex()


new_id = _Ids()


def _limit(query: str) -> int | None:
    limit = 10
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "limit":
            if not value.isdigit():
                return None
            limit = int(value)
    return limit


def _lines_valid(lines: Any) -> bool:
    if not isinstance(lines, list):
        return False
    for line in lines:
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str):
            return False
        qty, price = line.get("qty"), line.get("price")
        if type(qty) is not int or qty <= 0:
            return False
        if type(price) not in (int, float) or price < 0:
            return False
    return True


def _checkout(body: bytes, user: str) -> Answer:
    try:
        order = orjson.loads(body)
    except orjson.JSONDecodeError:
        return INVALID
    if not isinstance(order, dict) or type(order.get("cart_id")) is not int:
        return INVALID
    lines = order.get("lines")
    if not _lines_valid(lines) or not isinstance(order.get("coupon"), str | None):
        return INVALID
    total = sum(line["qty"] * line["price"] for line in lines)
    return 200, {"cart_id": order["cart_id"], "total": total, "user": user}


# Routes: what each answers from (user, query, the path's parts).
Route = Callable[[str, str, list[str]], Answer]
STATIC: dict[str, Route] = {}
DYNAMIC: dict[tuple[str, int], Route] = {}  # (/api/<router>/<resource>, shape) -> route


def _add_resource(base: str, resource: str) -> None:
    def listing(user: str, query: str, parts: list[str]) -> Answer:
        limit = _limit(query)
        return INVALID if limit is None else (200, spec.listing(resource, user, limit))

    def detail(user: str, query: str, parts: list[str]) -> Answer:
        return 200, spec.detail(resource, int(parts[4]), user)

    def events(user: str, query: str, parts: list[str]) -> Answer:
        return 200, spec.events(resource, int(parts[4]), user)

    def event(user: str, query: str, parts: list[str]) -> Answer:
        return 200, spec.event(resource, int(parts[4]), parts[6], user)

    STATIC[base] = listing
    DYNAMIC[base, 5] = detail
    DYNAMIC[base, 6] = events
    DYNAMIC[base, 7] = event


for _router, _resources in spec.ROUTERS.items():
    for _resource in _resources:
        _add_resource(f"/api/{_router}/{_resource}", _resource)
OPEN: dict[str, Answer] = {"/health": (200, {"status": "ok"}), "/version": (200, {"version": "1"})}
CHECKOUT = "/api/commerce/checkout"


def _find(path: str) -> tuple[Route, list[str]] | None:
    """The GET route for `path`: a static path, else `/api/<router>/<resource>/<int>...`."""
    route = STATIC.get(path)
    if route is not None:
        return route, []
    parts = path.split("/")
    shape = len(parts)
    if shape < 5 or not parts[4].isdigit() or (shape > 5 and parts[5] != "events"):
        return None
    if shape == 7 and not parts[6]:
        return None
    route = DYNAMIC.get(("/".join(parts[:4]), shape))
    return None if route is None else (route, parts)


async def _answer(scope: Scope, proto: HTTPProtocol, method: str, path: str) -> Answer:
    if method == "GET" and path in OPEN:
        return OPEN[path]
    found = _find(path) if method == "GET" else None
    if found is None and not (method == "POST" and path == CHECKOUT):
        return NOT_FOUND
    user = spec.user_from(scope.headers.get("authorization"))
    if user is None:
        return UNAUTHORIZED
    if found is None:
        return _checkout(await proto(), user)
    route, parts = found
    return route(user, scope.query_string, parts)


async def app(scope: Scope, proto: HTTPProtocol) -> None:
    if scope.proto != "http":
        return
    headers = scope.headers
    given = headers.get("x-request-id")
    rid = given if given is not None and _VALID_ID(given) else new_id()
    allowed = headers.get("origin") == spec.ORIGIN
    method = scope.method
    if method == "OPTIONS" and allowed and "access-control-request-method" in headers:
        asked = headers.get("access-control-request-headers")
        extra = [("access-control-allow-headers", asked)] if asked else []
        proto.response_empty(200, [*PREFLIGHT, *extra, ("x-request-id", rid)])
        return
    status, content = await _answer(scope, proto, method, scope.path)
    cors = CORS if allowed else []
    proto.response_bytes(status, [JSON, *cors, ("x-request-id", rid)], orjson.dumps(content))
