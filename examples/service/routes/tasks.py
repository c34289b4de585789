"""Tasks of a project: a listing cached in Redis, reads and writes on both engines.

The listing is `@cache(private=True)`: requests carry a bearer token, so each credential
gets entries of its own (never another user's), tagged with the project; every write to
the project `invalidate`s that tag, in Redis, for every worker. A write also adds the
audit record and the feed message as a background task (after the response).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ambi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Query,
    Request,
    Response,
    StoreError,
    cache,
    invalidate,
)

from ..auth import current_user_id
from ..changes import record_change
from ..db import async_session, database, session
from ..models import NewTask, Task, TaskChange, TaskOut
from ._owned import owned_project_async, owned_task, owned_task_async

router = APIRouter(prefix="/projects/{project_id:int}/tasks", tags=["tasks"])

UserId = Annotated[int, Depends(current_user_id)]
logger = logging.getLogger("examples.service")
LISTING_TTL = 30  # seconds; writes invalidate sooner


def project_tag(project_id: int) -> str:
    return f"project:{project_id}"


async def forget_listing(project_id: int) -> None:
    """Drop the project's cached listings (in Redis: for every worker). The write is
    committed by now: if Redis fails, say so and answer anyway (the entries expire
    within `LISTING_TTL`)."""
    try:
        await invalidate(tags=[project_tag(project_id)])
    except StoreError:
        logger.exception("project %s: its cached listings stay until they expire", project_id)


def forget_listing_sync(project_id: int) -> None:
    """`forget_listing` for `def` routes (`invalidate` is a plain call there)."""
    try:
        invalidate(tags=[project_tag(project_id)])
    except StoreError:
        logger.exception("project %s: its cached listings stay until they expire", project_id)


@router.get("", response_model=list[TaskOut])
@cache(ttl=LISTING_TTL, tags=["project:{project_id}"], private=True)
async def list_tasks(
    project_id: int,
    *,
    user_id: UserId,
    db: Annotated[AsyncSession, Depends(async_session)],
    done: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Task]:
    await owned_project_async(db, user_id, project_id)
    query = select(Task).where(Task.project_id == project_id)
    if done is not None:
        query = query.where(Task.done == done)
    found = await db.scalars(query.order_by(Task.id.desc()).limit(limit).offset(offset))
    return list(found)


@router.post("", status_code=201, response_model=TaskOut)
async def create_task(
    request: Request,
    *,
    project_id: int,
    new: NewTask,
    user_id: UserId,
    db: Annotated[AsyncSession, Depends(async_session)],
    background: BackgroundTasks,
) -> Task:
    await owned_project_async(db, user_id, project_id)
    task = Task(project_id=project_id, title=new.title, notes=new.notes)
    db.add(task)
    await db.commit()
    await forget_listing(project_id)
    background.add_task(
        record_change,
        database(request),
        user_id,
        action="create",
        entity="task",
        entity_id=task.id,
        data={"project_id": project_id, "title": task.title},
    )
    return task


@router.get("/{task_id:int}", response_model=TaskOut)
def get_task(
    project_id: int, task_id: int, user_id: UserId, db: Annotated[Session, Depends(session)]
) -> Task:
    return owned_task(db, user_id, project_id, task_id)


@router.patch("/{task_id:int}", response_model=TaskOut)
def update_task(
    request: Request,
    *,
    project_id: int,
    task_id: int,
    change: TaskChange,
    user_id: UserId,
    db: Annotated[Session, Depends(session)],
    background: BackgroundTasks,
) -> Task:
    task = owned_task(db, user_id, project_id, task_id)
    fields = change.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in fields.items():
        setattr(task, name, value)
    task.updated_at = datetime.now(UTC)
    db.commit()
    forget_listing_sync(project_id)
    background.add_task(
        record_change,
        database(request),
        user_id,
        action="update",
        entity="task",
        entity_id=task.id,
        data={"project_id": project_id, **fields},
    )
    return task


@router.delete("/{task_id:int}", status_code=204)
async def delete_task(
    request: Request,
    *,
    project_id: int,
    task_id: int,
    user_id: UserId,
    db: Annotated[AsyncSession, Depends(async_session)],
    background: BackgroundTasks,
) -> Response:
    task = await owned_task_async(db, user_id, project_id, task_id)
    await db.delete(task)
    await db.commit()
    await forget_listing(project_id)
    background.add_task(
        record_change,
        database(request),
        user_id,
        action="delete",
        entity="task",
        entity_id=task_id,
        data={"project_id": project_id},
    )
    return Response(status_code=204)
