"""What the user sees of their activity: counts, the audit trail, the live feed.

`/stats` is a `def` route that calls an async library: `fetch_stats` is `@smartasync`, so
from the route's worker thread it runs on the app's own loop, where the asyncpg pool was
made at startup (the only loop that pool works on). `/stats/async` runs the same query
from an `async def` route, for comparison (benchmarks/bench_service.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
import orjson

from ambi import (
    APIRouter,
    Depends,
    EventSourceResponse,
    Query,
    Request,
    ServerSentEvent,
    smartasync,
)

from ..auth import current_user_id
from ..db import database
from ..models import AuditOut, Stats

router = APIRouter(tags=["insight"])

UserId = Annotated[int, Depends(current_user_id)]

STATS = (
    "SELECT count(DISTINCT p.id), count(t.id), count(t.id) FILTER (WHERE t.done)"
    " FROM projects p LEFT JOIN tasks t ON t.project_id = p.id WHERE p.owner_id = $1"
)
AUDIT = (
    "SELECT id, action, entity, entity_id, at FROM audit WHERE user_id = $1"
    " ORDER BY at DESC, id DESC LIMIT $2"
)


@smartasync
async def fetch_stats(pool: asyncpg.Pool, user_id: int) -> Stats:
    row = await pool.fetchrow(STATS, user_id)
    return Stats(projects=row[0], tasks=row[1], done=row[2])


@router.get("/stats")
def stats(request: Request, user_id: UserId) -> Stats:
    """A `def` route: the asyncpg query runs on the app's loop, this thread waits."""
    return fetch_stats.sync(database(request).pool, user_id)


@router.get("/stats/async")
async def stats_async(request: Request, user_id: UserId) -> Stats:
    return await fetch_stats.aio(database(request).pool, user_id)


@router.get("/audit", response_model=list[AuditOut])
async def audit(
    request: Request, user_id: UserId, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    return [dict(row) for row in await database(request).pool.fetch(AUDIT, user_id, limit)]


@router.get("/feed")
async def feed(request: Request, user_id: UserId) -> EventSourceResponse:
    """Server-sent events: every change the user makes, from any worker, as it happens.
    The first event (`ready`) says the subscription is in place."""
    db = database(request)
    pubsub = db.redis.pubsub()
    await pubsub.subscribe(db.settings.feed_channel(user_id))

    async def changes() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent("subscribed", event="ready")
            async for message in pubsub.listen():
                if message["type"] == "message":
                    change = orjson.loads(message["data"])
                    yield ServerSentEvent(
                        orjson.dumps(change).decode(), event="change", id=str(change["audit_id"])
                    )
        finally:
            await pubsub.aclose()  # unsubscribes and gives the connection back

    return EventSourceResponse(changes(), ping=15)
