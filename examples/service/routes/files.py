"""Attachments: an upload (`async def`, the file bounded by `File(max_size=...)`) stored in
PostgreSQL, and its download (`def`, sync engine)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ambi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    HTTPException,
    Request,
    Response,
    UploadFile,
)

from ..auth import current_user_id
from ..changes import record_change
from ..db import async_session, database, session
from ..models import Attachment, AttachmentOut, Project, Task
from ._owned import owned_task_async

router = APIRouter(tags=["attachments"])

UserId = Annotated[int, Depends(current_user_id)]
MAX_ATTACHMENT = "5MB"


@router.post(
    "/projects/{project_id:int}/tasks/{task_id:int}/attachments",
    status_code=201,
    response_model=AttachmentOut,
)
async def upload(
    request: Request,
    *,
    project_id: int,
    task_id: int,
    user_id: UserId,
    db: Annotated[AsyncSession, Depends(async_session)],
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(max_size=MAX_ATTACHMENT)],
) -> Attachment:
    await owned_task_async(db, user_id, project_id, task_id)
    data = await file.aread()
    attachment = Attachment(
        task_id=task_id,
        filename=(file.filename or "upload")[:255],
        content_type=(file.content_type or "application/octet-stream")[:100],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    db.add(attachment)
    await db.commit()
    background.add_task(
        record_change,
        database(request),
        user_id,
        action="upload",
        entity="attachment",
        entity_id=attachment.id,
        data={"task_id": task_id, "filename": attachment.filename, "size": attachment.size},
    )
    return attachment


@router.get("/attachments/{attachment_id:int}")
def download(
    attachment_id: int, user_id: UserId, db: Annotated[Session, Depends(session)]
) -> Response:
    attachment = db.scalar(
        select(Attachment)
        .join(Task, Task.id == Attachment.task_id)
        .join(Project, Project.id == Task.project_id)
        .where(Attachment.id == attachment_id, Project.owner_id == user_id)
    )
    if attachment is None:
        raise HTTPException(404, "no such attachment")
    return Response(
        attachment.data,
        media_type=attachment.content_type,
        headers={"content-disposition": f'attachment; filename="{attachment.id}"'},
    )
