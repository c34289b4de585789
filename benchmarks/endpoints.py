"""The four benchmark endpoints: what the load generator sends and what a correct answer is."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Any

import orjson

ORDER_PAYLOAD: dict[str, Any] = {
    "customer_id": 42,
    "email": "ada@example.com",
    "items": [
        {"sku": "A-100", "qty": 2, "price": 9.5},
        {"sku": "B-200", "qty": 1, "price": 20.0},
        {"sku": "C-300", "qty": 4, "price": 0.25},
    ],
    "note": "leave at the door",
    "priority": 3,
    "express": True,
}


#: /deps and /deps-sync: a dependency reading a header (Host, always sent) and one with
#: `yield` (a session opened before the handler and closed after the response).
DEPS_ANSWER: dict[str, Any] = {"user": "bench", "db": "open"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint as the load generator requests it."""

    name: str
    label: str
    method: str
    target: str
    expected: Any
    body: bytes | None = None
    required: bool = False
    """A wrong answer here fails the run (exit status 1), not just the table cell."""


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint(
            name="json",
            label="GET /json (async)",
            method="GET",
            target="/json",
            expected={"message": "hello"},
            required=True,
        ),
        Endpoint(
            name="sync-json",
            label="GET /sync-json (def)",
            method="GET",
            target="/sync-json",
            expected={"message": "hello", "sync": True},
            required=True,
        ),
        Endpoint(
            name="deps",
            label="GET /deps (async, 2 dependencies)",
            method="GET",
            target="/deps",
            expected=DEPS_ANSWER,
        ),
        Endpoint(
            name="deps-sync",
            label="GET /deps-sync (def, 2 def dependencies)",
            method="GET",
            target="/deps-sync",
            expected={**DEPS_ANSWER, "sync": True},
        ),
        Endpoint(
            name="items",
            label="GET /items/{item_id}?q=&limit= (typed)",
            method="GET",
            target="/items/42?q=widget&limit=5",
            expected={"item_id": 42, "q": "widget", "limit": 5},
        ),
        Endpoint(
            name="orders",
            label="POST /orders (validated body)",
            method="POST",
            target="/orders",
            body=orjson.dumps(ORDER_PAYLOAD),
            expected={
                "customer_id": 42,
                "item_count": 3,
                "total": 40.0,
                "priority": 3,
                "express": True,
            },
        ),
    )
}


def same_json(got: Any, want: Any) -> bool:
    """JSON equality that, unlike `==`, tells `true` from `1` (ints and floats may mix)."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, int | float):
        return isinstance(got, int | float) and got == want
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(same_json(got[k], want[k]) for k in want)
        )
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(same_json(g, w) for g, w in zip(got, want, strict=True))
        )
    return type(got) is type(want) and bool(got == want)


def check_answer(host: str, port: int, endpoint: Endpoint, timeout: float = 10.0) -> str | None:
    """Request `endpoint` once; None if the answer is right, else what is wrong with it."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = {} if endpoint.body is None else {"Content-Type": "application/json"}
    try:
        conn.request(endpoint.method, endpoint.target, body=endpoint.body, headers=headers)
        response = conn.getresponse()
        body = response.read()
        status, content_type = response.status, response.getheader("content-type")
    except OSError as exc:
        return f"request failed: {exc!r}"
    finally:
        conn.close()
    if status != 200:
        return f"status {status}: {body[:200]!r}"
    if not (content_type or "").startswith("application/json"):
        return f"content-type {content_type!r}, not application/json"
    try:
        got = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"not JSON: {body[:200]!r}"
    if not same_json(got, endpoint.expected):
        return f"body {body[:200]!r}, expected {orjson.dumps(endpoint.expected)!r}"
    return None
