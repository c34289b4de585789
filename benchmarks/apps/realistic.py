"""The realistic-app scenario, shared by its three implementations (ambi, FastAPI,
Starlette): 63 routes in three routers (static and dynamic paths), CORS and a request id
on every response, an auth header dependency on every route but two, a JSON body route.

What the load generator sends (`REQUESTS`) and what each answer must be (`expected`).
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, Field

ORIGIN = "http://localhost:5173"
TOKEN = "token-ada"
ROUTERS: dict[str, tuple[str, ...]] = {
    "catalog": ("products", "categories", "brands", "tags", "reviews"),
    "commerce": ("users", "orders", "carts", "coupons", "payments"),
    "logistics": ("stores", "warehouses", "suppliers", "shipments", "invoices"),
}


class Line(BaseModel):
    sku: str
    qty: int = Field(gt=0)
    price: float = Field(ge=0)


class Checkout(BaseModel):
    cart_id: int
    lines: list[Line]
    coupon: str | None = None


def user_from(authorization: str | None) -> str | None:
    """The auth dependency's work: `Bearer <token>` -> the user, else None (a 401)."""
    if authorization is None or not authorization.startswith("Bearer "):
        return None
    return authorization[7:]


def listing(resource: str, user: str, limit: int) -> dict[str, Any]:
    return {"resource": resource, "items": list(range(min(limit, 3))), "user": user}


def detail(resource: str, item_id: int, user: str) -> dict[str, Any]:
    return {"resource": resource, "id": item_id, "user": user}


def events(resource: str, item_id: int, user: str) -> dict[str, Any]:
    return {"resource": resource, "id": item_id, "events": [], "user": user}


def event(resource: str, item_id: int, event_id: str, user: str) -> dict[str, Any]:
    return {"resource": resource, "id": item_id, "event": event_id, "user": user}


def checkout(order: Checkout, user: str) -> dict[str, Any]:
    total = sum(line.qty * line.price for line in order.lines)
    return {"cart_id": order.cart_id, "total": total, "user": user}


CHECKOUT_BODY = (
    b'{"cart_id":7,"lines":[{"sku":"a","qty":2,"price":2.5},{"sku":"b","qty":1,"price":4.0}]}'
)
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Origin": ORIGIN, "Accept": "application/json"}

#: (method, target, body): the request mix, cycled through by the load generator.
REQUESTS: list[tuple[str, str, bytes | None]] = [
    ("GET", "/api/catalog/products?limit=2", None),
    ("GET", "/api/catalog/products/42", None),
    ("GET", "/api/commerce/orders/7/events", None),
    ("GET", "/api/logistics/shipments/3/events/ev-9", None),
    ("GET", "/health", None),
    ("GET", "/api/commerce/users/1", None),
    ("GET", "/api/catalog/reviews?limit=3", None),
    ("POST", "/api/commerce/checkout", CHECKOUT_BODY),
    ("GET", "/api/logistics/invoices/12", None),
    ("GET", "/api/catalog/tags/5/events", None),
    ("GET", "/api/commerce/payments/8/events/x1", None),
    ("GET", "/api/logistics/stores", None),
]


def expected(method: str, target: str) -> Any:
    """The JSON every implementation must answer for one request of the mix."""
    path, _, query = target.partition("?")
    if path == "/health":
        return {"status": "ok"}
    if path == "/api/commerce/checkout":
        return {"cart_id": 7, "total": 9.0, "user": TOKEN}
    parts = path.split("/")[3:]
    resource = parts[0]
    if len(parts) == 1:
        limit = int(query.partition("=")[2]) if query else 10
        return listing(resource, TOKEN, limit)
    if len(parts) == 2:
        return detail(resource, int(parts[1]), TOKEN)
    if len(parts) == 3:
        return events(resource, int(parts[1]), TOKEN)
    return event(resource, int(parts[1]), parts[3], TOKEN)


class RequestIdASGI:
    """The request id for the ASGI peers, as a pure ASGI middleware (the fastest way they
    have: no BaseHTTPMiddleware): a valid incoming X-Request-ID or a new one, echoed."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for key, value in scope["headers"]:
            if key == b"x-request-id" and 0 < len(value) <= 128:
                rid = value
        if rid is None:
            rid = os.urandom(16).hex().encode()

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid)]
            await send(message)

        await self.app(scope, receive, send_with_id)
