"""Per-user data: a project is reachable only by its owner (others get 404: its existence
is not revealed)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ambi import HTTPException

from ..models import Project, Task


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"no such {what}")


def owned_project(db: Session, user_id: int, project_id: int) -> Project:
    project = db.get(Project, project_id)
    if project is None or project.owner_id != user_id:
        raise _not_found("project")
    return project


async def owned_project_async(db: AsyncSession, user_id: int, project_id: int) -> Project:
    project = await db.get(Project, project_id)
    if project is None or project.owner_id != user_id:
        raise _not_found("project")
    return project


def _task_query(user_id: int, project_id: int, task_id: int) -> Select[tuple[Task]]:
    return (
        select(Task)
        .join(Project, Project.id == Task.project_id)
        .where(Task.id == task_id, Task.project_id == project_id, Project.owner_id == user_id)
    )


def owned_task(db: Session, user_id: int, project_id: int, task_id: int) -> Task:
    task = db.scalar(_task_query(user_id, project_id, task_id))
    if task is None:
        raise _not_found("task")
    return task


async def owned_task_async(db: AsyncSession, user_id: int, project_id: int, task_id: int) -> Task:
    task = await db.scalar(_task_query(user_id, project_id, task_id))
    if task is None:
        raise _not_found("task")
    return task
