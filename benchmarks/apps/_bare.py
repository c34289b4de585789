"""Hand-written request handling shared by the two bare apps (no framework, no validation)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

ITEMS_PREFIX = "/items/"


def item_response(path: str, query_string: str) -> tuple[int, dict[str, Any]]:
    """`/items/{item_id}?q=&limit=`: path and query parsed by hand."""
    query = dict(parse_qsl(query_string))
    try:
        return 200, {
            "item_id": int(path[len(ITEMS_PREFIX) :]),
            "q": query.get("q"),
            "limit": int(query.get("limit", "10")),
        }
    except ValueError:
        return 422, {"detail": "item_id and limit must be integers"}


def order_response(body: bytes) -> tuple[int, dict[str, Any]]:
    """`POST /orders`: the body is decoded with orjson and summarised, not validated."""
    try:
        order = orjson.loads(body)
        items = order["items"]
        return 200, {
            "customer_id": order["customer_id"],
            "item_count": len(items),
            "total": sum(item["qty"] * item["price"] for item in items),
            "priority": order["priority"],
            "express": order["express"],
        }
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return 422, {"detail": "invalid order"}


def deps_response(host: str | None) -> dict[str, Any]:
    """/deps by hand: the "user" from the Host header, a "session" opened and closed."""
    return {"user": "bench" if host else "anonymous", "db": "open"}
