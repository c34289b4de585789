"""Connections, sessions, the current user, the listing cache and the audit task."""

# ruff: noqa: PLR0917 - written as FastAPI users write handlers: positional parameters

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import jwt
import orjson
import redis.asyncio as aioredis
from examples.service.settings import Settings
from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker


@dataclass
class Database:
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
        engine = create_engine(settings.sync_url, pool_size=size, max_overflow=0)
        async_engine = create_async_engine(settings.async_url, pool_size=size, max_overflow=0)
        return cls(
            settings=settings,
            engine=engine,
            async_engine=async_engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            async_sessions=async_sessionmaker(async_engine, expire_on_commit=False),
            pool=await asyncpg.create_pool(settings.dsn, min_size=1, max_size=size),
            redis=aioredis.Redis.from_url(settings.redis_url),
        )

    async def close(self) -> None:
        await self.pool.close()
        await self.async_engine.dispose()
        await self.redis.aclose()
        self.engine.dispose()


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.sessions() as session:
        yield session


async def get_async_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.async_sessions() as session:
        yield session


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login")

# `async def` where nothing blocks, as FastAPI's security tutorial writes get_current_user:
# a `def` dependency would cost a thread-pool round trip per request in FastAPI.


async def get_current_user_id(
    request: Request, token: Annotated[str, Depends(oauth2_scheme)]
) -> int:
    unauthorized = HTTPException(
        401, "Could not validate credentials", {"WWW-Authenticate": "Bearer"}
    )
    try:
        claims = jwt.decode(
            token,
            request.app.state.db.settings.jwt_secret,
            algorithms=["HS256"],
            options={"require": ["exp"]},
        )
        return int(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise unauthorized from None


UserId = Annotated[int, Depends(get_current_user_id)]
DB = Annotated[Database, Depends(get_db)]


# The listing cache: one Redis key per (project, credential, query), and a set of a
# project's keys, deleted on writes.

CACHE_TTL = 30


def _cache_key(db: Database, request: Request, project_id: int) -> str:
    credential = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()
    query = "&".join(sorted(str(request.query_params).split("&")))
    return f"{db.settings.redis_prefix}fcache:{project_id}:{credential[:32]}:{query}"


def _tag_key(db: Database, project_id: int) -> str:
    return f"{db.settings.redis_prefix}fcache-tag:{project_id}"


async def cached(db: Database, request: Request, project_id: int) -> bytes | None:
    value: bytes | None = await db.redis.get(_cache_key(db, request, project_id))
    return value


async def store(db: Database, request: Request, project_id: int, body: bytes) -> None:
    key, tag = _cache_key(db, request, project_id), _tag_key(db, project_id)
    async with db.redis.pipeline(transaction=True) as pipe:
        pipe.set(key, body, ex=CACHE_TTL).sadd(tag, key).expire(tag, CACHE_TTL)
        await pipe.execute()


async def invalidate(db: Database, project_id: int) -> None:
    tag = _tag_key(db, project_id)
    keys = await db.redis.smembers(tag)
    await db.redis.delete(tag, *keys)


INSERT_AUDIT = (
    "INSERT INTO audit (user_id, action, entity, entity_id, at)"
    " VALUES ($1, $2, $3, $4, now()) RETURNING id"
)


async def record_change(
    db: Database, user_id: int, action: str, entity: str, entity_id: int, data: dict[str, Any]
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
