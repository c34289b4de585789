"""Projects: the signed-in user's own (`async def` list on the async engine, `def` create
on the sync one)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ambi import APIRouter, BackgroundTasks, Depends, Request

from ..auth import current_user_id
from ..changes import record_change
from ..db import async_session, database, session
from ..models import NewProject, Project, ProjectOut

router = APIRouter(prefix="/projects", tags=["projects"])

UserId = Annotated[int, Depends(current_user_id)]


@router.get("", response_model=list[ProjectOut])
async def list_projects(
    user_id: UserId, db: Annotated[AsyncSession, Depends(async_session)]
) -> list[Project]:
    found = await db.scalars(
        select(Project).where(Project.owner_id == user_id).order_by(Project.id)
    )
    return list(found)


@router.post("", status_code=201, response_model=ProjectOut)
def create_project(
    request: Request,
    new: NewProject,
    user_id: UserId,
    db: Annotated[Session, Depends(session)],
    background: BackgroundTasks,
) -> Project:
    project = Project(owner_id=user_id, name=new.name)
    db.add(project)
    db.commit()
    background.add_task(
        record_change,
        database(request),
        user_id,
        action="create",
        entity="project",
        entity_id=project.id,
        data={"name": project.name},
    )
    return project
