"""The service's connections, made when a worker starts and closed when it stops.

- a sync SQLAlchemy engine on psycopg 3, for the `def` routes (they run in ambi's thread
  pool: a blocking driver is what they want);
- an async SQLAlchemy engine on asyncpg, for the `async def` routes;
- a raw asyncpg pool, created by an async startup hook on the app's loop: the `def` route
  `/stats` reaches it through `smartasync` (ambi.bridge), which runs the coroutine on that
  loop (an asyncpg pool only works on the loop that made it);
- one redis-py asyncio client, for the change feed (pub/sub).

Every pool is bounded (`Settings.pool_size` each), so N workers hold at most 3 * N *
pool_size database connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from ambi import Request

from .settings import Settings


@dataclass
class Database:
    """What one process holds open; `app.state.db` while the app runs."""

    settings: Settings
    engine: Engine
    async_engine: AsyncEngine
    sessions: sessionmaker[Session]
    async_sessions: async_sessionmaker[AsyncSession]
    pool: asyncpg.Pool
    redis: aioredis.Redis

    @classmethod
    async def open(cls, settings: Settings) -> Database:
        size = settings.pool_size
        engine = create_engine(
            settings.sync_url, pool_size=size, max_overflow=0, pool_pre_ping=False
        )
        async_engine = create_async_engine(settings.async_url, pool_size=size, max_overflow=0)
        pool = await asyncpg.create_pool(settings.dsn, min_size=1, max_size=size)
        return cls(
            settings=settings,
            engine=engine,
            async_engine=async_engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            async_sessions=async_sessionmaker(async_engine, expire_on_commit=False),
            pool=pool,
            redis=aioredis.Redis.from_url(settings.redis_url),
        )

    async def close(self) -> None:
        await self.pool.close()
        await self.async_engine.dispose()
        await self.redis.aclose()
        self.engine.dispose()  # returns at once: its connections are idle by now


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def session(request: Request) -> Iterator[Session]:
    """A sync session for a `def` route; closed (its connection back in the pool) after."""
    with database(request).sessions() as db_session:
        yield db_session


async def async_session(request: Request) -> AsyncIterator[AsyncSession]:
    """An async session for an `async def` route; closed after."""
    async with database(request).async_sessions() as db_session:
        yield db_session
