"""The `/json` endpoint of `ambi_app`, and the same answer from the response cache.

`/cached-json` is `/json` under `@cache` (in-memory store): after the first request every
request is a hit, which must cost no more than running the handler (issue #11: a hit at
>= 0.9x the req/s of `/json`, same run).
"""

from __future__ import annotations

from typing import Any

from ambi import App, cache

app = App()


@app.get("/json")
async def json_async() -> dict[str, Any]:
    return {"message": "hello"}


@app.get("/cached-json")
@cache(ttl=3600)
async def cached_json() -> dict[str, Any]:
    return {"message": "hello"}
