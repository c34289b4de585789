"""The service's `/stats` pair without a database, for in-process figures of the bridge
(`bench_request`, `bench_instructions`): a `def` route with a `def` dependency calling an
async function through `smartasync` on the app's loop, and its `async def` twin.

The coroutine yields to the loop once (`asyncio.sleep(0)`), as a query's round trip does,
so the `def` route's request crosses threads as `/stats` does: loop -> worker (the
dependency and the handler), worker -> loop (the coroutine), loop -> worker (its result),
worker -> loop (the handler's result).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from ambi import App, Depends, Request, smartasync

app = App()


def current_user(request: Request) -> int:
    return len(request.path)


User = Annotated[int, Depends(current_user)]


@smartasync
async def fetch(user: int) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"user": user, "projects": 3, "tasks": 90}


@app.get("/bridge-sync")
def bridge_sync(user: User) -> dict[str, Any]:
    return fetch.sync(user)  # type: ignore[no-any-return]


@app.get("/bridge-async")
async def bridge_async(user: User) -> dict[str, Any]:
    return await fetch.aio(user)  # type: ignore[no-any-return]
