# ruff: noqa
# fmt: off
"""Seed 004 (FastAPI's sync/async guidance): Common Patterns 1, Database Operations.

Copied verbatim from the seed document; only import lines changed: the snippet's own
import is kept, and what it uses without importing (app, Depends, select, User,
get_db_session) comes from ambi and the stand-ins (tests/examples/seeds/_fastapi.py).
"""
# Async SQLAlchemy
from sqlalchemy.ext.asyncio import AsyncSession
from ambi import Depends
from tests.examples.seeds._fastapi import app, get_db_session, select, User

@app.get("/users/{user_id}")
async def get_user(
    user_id: int,
    session: AsyncSession = Depends(get_db_session)
):
    result = await session.execute(
        select(User).where(User.id == user_id)
    )
    return result.scalar_one_or_none()
