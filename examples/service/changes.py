"""After a write: the audit record and the change feed.

Routes that write add `record_change` to their `BackgroundTasks`: it runs after the
client has its response (an `async def` task, on the app's loop), inserts the audit row
through the asyncpg pool and publishes the change on the user's Redis channel, which every
worker's `/feed` streams subscribe to.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from .db import Database

logger = logging.getLogger("examples.service")

INSERT_AUDIT = (
    "INSERT INTO audit (user_id, action, entity, entity_id, at)"
    " VALUES ($1, $2, $3, $4, now()) RETURNING id"
)


async def record_change(
    db: Database, user_id: int, *, action: str, entity: str, entity_id: int, data: dict[str, Any]
) -> None:
    audit_id = await db.pool.fetchval(INSERT_AUDIT, user_id, action, entity, entity_id)
    change = {
        "audit_id": audit_id,
        "action": action,
        "entity": entity,
        "id": entity_id,
        "data": data,
    }
    await db.redis.publish(db.settings.feed_channel(user_id), orjson.dumps(change))
