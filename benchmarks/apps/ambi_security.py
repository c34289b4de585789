"""The security benchmark app: `/json` (as in the peer suite) bare, behind an in-process
token bucket (`/json-limited-x`: sending the X-RateLimit-* headers too), behind a Redis
token bucket, and behind HS256 JWT verification.

The buckets are large enough never to refuse under load (the cost measured is counting,
not refusing). `AMBI_BENCH_REDIS_PREFIX` names the Redis keys.
"""

from __future__ import annotations

import os
import time
from typing import Any

import jwt

from ambi import App, RateLimitConfig

SECRET = "benchmark-secret-of-at-least-32-bytes"
#: A token for `Authorization: Bearer ...` (valid for a day from import).
TOKEN = jwt.encode(
    {"sub": "bench", "roles": ["editor"], "exp": int(time.time()) + 86_400},
    SECRET,
    algorithm="HS256",
)

NEVER_EMPTY = {"capacity": 10**9, "refill_rate": 10**9}

app = App()
app.enable_jwt(secret=SECRET, required=True, exclude=["/json", "/json-limited*", "/json-redis"])


@app.get("/json")
async def json_plain() -> dict[str, Any]:
    return {"message": "hello"}


@app.get("/json-limited", rate_limit=RateLimitConfig.token_bucket(**NEVER_EMPTY))
async def json_limited() -> dict[str, Any]:
    return {"message": "hello"}


@app.get("/json-limited-x", rate_limit=RateLimitConfig.token_bucket(**NEVER_EMPTY, x_headers=True))
async def json_limited_x() -> dict[str, Any]:
    return {"message": "hello"}


@app.get(
    "/json-redis",
    rate_limit=RateLimitConfig.token_bucket(
        **NEVER_EMPTY,
        storage="redis://127.0.0.1:6379/0",
        prefix=os.environ.get("AMBI_BENCH_REDIS_PREFIX", "ambi-bench"),
        timeout=2.0,
    ),
)
async def json_redis() -> dict[str, Any]:
    return {"message": "hello"}


@app.get("/json-jwt")
async def json_jwt() -> dict[str, Any]:
    return {"message": "hello"}
