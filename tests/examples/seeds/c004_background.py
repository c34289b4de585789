# ruff: noqa
# fmt: off
"""Seed 004 (FastAPI's sync/async guidance): Common Patterns 3, Background Tasks.

Copied verbatim from the seed document; only import lines changed:
  'from fastapi import BackgroundTasks' -> 'from ambi import BackgroundTasks', and what the
  snippet uses without importing (app, UserCreate, db, email_service) comes from the
  stand-ins (tests/examples/seeds/_fastapi.py).
"""
from ambi import BackgroundTasks
from tests.examples.seeds._fastapi import app, UserCreate, db, email_service

async def send_email_notification(user_id: int):
    # This runs in background without blocking
    await email_service.send(user_id)

@app.post("/users/")
async def create_user(
    user: UserCreate,
    background_tasks: BackgroundTasks
):
    new_user = await db.create_user(user)
    background_tasks.add_task(send_email_notification, new_user.id)
    return new_user
