"""The FastAPI twin's routes (the same paths, shapes and def / async def split as
examples/service)."""

# ruff: noqa: PLR0917 - written as FastAPI users write handlers: positional parameters

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import anyio.from_thread
import asyncpg
import orjson
from examples.service.credentials import (
    check_unknown_user,
    create_token,
    hash_password,
    verify_password,
)
from examples.service.migrations import migrate
from examples.service.models import (
    Attachment,
    AttachmentOut,
    AuditOut,
    NewProject,
    NewTask,
    NewUser,
    Project,
    ProjectOut,
    Stats,
    Task,
    TaskChange,
    TaskOut,
    Token,
    User,
    UserOut,
)
from examples.service.settings import Settings
from fastapi import (
    BackgroundTasks,
    Depends,
    FastAPI,
    File,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import StreamingResponse
from fastapi.security import OAuth2PasswordRequestForm
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .deps import (
    DB,
    Database,
    UserId,
    cached,
    get_async_session,
    get_session,
    invalidate,
    record_change,
    store,
)

settings = Settings.from_env()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await anyio.to_thread.run_sync(migrate, settings.sync_url)
    app.state.db = await Database.open(settings)
    yield
    await app.state.db.close()


app = FastAPI(title="FastAPI twin of the ambi task tracker", lifespan=lifespan)
Instrumentator().instrument(app).expose(app, endpoint="/metrics")

SyncDB = Annotated[Session, Depends(get_session)]
AsyncDB = Annotated[AsyncSession, Depends(get_async_session)]
TASKS = TypeAdapter(list[TaskOut])


def owned_project(db: Session, user_id: int, project_id: int) -> Project:
    project = db.get(Project, project_id)
    if project is None or project.owner_id != user_id:
        raise HTTPException(404, "no such project")
    return project


async def owned_project_async(db: AsyncSession, user_id: int, project_id: int) -> Project:
    project = await db.get(Project, project_id)
    if project is None or project.owner_id != user_id:
        raise HTTPException(404, "no such project")
    return project


def _task_query(user_id: int, project_id: int, task_id: int) -> Any:
    return (
        select(Task)
        .join(Project, Project.id == Task.project_id)
        .where(Task.id == task_id, Task.project_id == project_id, Project.owner_id == user_id)
    )


# accounts ----------------------------------------------------------------------------------


@app.post("/auth/register", status_code=201, response_model=UserOut)
def register(new: NewUser, db: SyncDB) -> User:
    user = User(
        username=new.username,
        password_hash=hash_password(new.password, settings.password_iterations),
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        raise HTTPException(409, "this username is taken") from None
    return user


@app.post("/auth/login")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: SyncDB) -> Token:
    user = db.scalar(select(User).where(User.username == form.username))
    if user is None:
        check_unknown_user(form.password, settings.password_iterations)
    if user is None or not verify_password(form.password, user.password_hash):
        raise HTTPException(401, "wrong username or password", {"WWW-Authenticate": "Bearer"})
    token, lifetime = create_token(settings, user.id, user.username)
    return Token(access_token=token, expires_in=lifetime)


@app.get("/me", response_model=UserOut)
async def me(user_id: UserId, db: AsyncDB) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise HTTPException(401, "this account no longer exists")
    return user


# projects ----------------------------------------------------------------------------------


@app.get("/projects", response_model=list[ProjectOut])
async def list_projects(user_id: UserId, db: AsyncDB) -> list[Project]:
    found = await db.scalars(
        select(Project).where(Project.owner_id == user_id).order_by(Project.id)
    )
    return list(found)


@app.post("/projects", status_code=201, response_model=ProjectOut)
def create_project(
    new: NewProject, user_id: UserId, db: SyncDB, database: DB, background: BackgroundTasks
) -> Project:
    project = Project(owner_id=user_id, name=new.name)
    db.add(project)
    db.commit()
    background.add_task(
        record_change, database, user_id, "create", "project", project.id, {"name": project.name}
    )
    return project


# tasks -------------------------------------------------------------------------------------


@app.get("/projects/{project_id}/tasks", response_model=list[TaskOut])
async def list_tasks(
    request: Request,
    project_id: int,
    user_id: UserId,
    db: AsyncDB,
    database: DB,
    done: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    hit = await cached(database, request, project_id)
    if hit is not None:
        return Response(hit, media_type="application/json")
    await owned_project_async(db, user_id, project_id)
    query = select(Task).where(Task.project_id == project_id)
    if done is not None:
        query = query.where(Task.done == done)
    found = await db.scalars(query.order_by(Task.id.desc()).limit(limit).offset(offset))
    body = TASKS.dump_json(TASKS.validate_python(list(found), from_attributes=True))
    await store(database, request, project_id, body)
    return Response(body, media_type="application/json")


@app.post("/projects/{project_id}/tasks", status_code=201, response_model=TaskOut)
async def create_task(
    project_id: int,
    new: NewTask,
    user_id: UserId,
    db: AsyncDB,
    database: DB,
    background: BackgroundTasks,
) -> Task:
    await owned_project_async(db, user_id, project_id)
    task = Task(project_id=project_id, title=new.title, notes=new.notes)
    db.add(task)
    await db.commit()
    await invalidate(database, project_id)
    background.add_task(
        record_change,
        database,
        user_id,
        "create",
        "task",
        task.id,
        {"project_id": project_id, "title": task.title},
    )
    return task


@app.get("/projects/{project_id}/tasks/{task_id}", response_model=TaskOut)
def get_task(project_id: int, task_id: int, user_id: UserId, db: SyncDB) -> Task:
    task = db.scalar(_task_query(user_id, project_id, task_id))
    if task is None:
        raise HTTPException(404, "no such task")
    return task


@app.patch("/projects/{project_id}/tasks/{task_id}", response_model=TaskOut)
def update_task(
    project_id: int,
    task_id: int,
    change: TaskChange,
    user_id: UserId,
    db: SyncDB,
    database: DB,
    background: BackgroundTasks,
) -> Task:
    task = db.scalar(_task_query(user_id, project_id, task_id))
    if task is None:
        raise HTTPException(404, "no such task")
    fields = change.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in fields.items():
        setattr(task, name, value)
    task.updated_at = datetime.now(UTC)
    db.commit()
    anyio.from_thread.run(invalidate, database, project_id)
    background.add_task(
        record_change,
        database,
        user_id,
        "update",
        "task",
        task.id,
        {"project_id": project_id, **fields},
    )
    return task


@app.delete("/projects/{project_id}/tasks/{task_id}", status_code=204)
async def delete_task(
    project_id: int,
    task_id: int,
    user_id: UserId,
    db: AsyncDB,
    database: DB,
    background: BackgroundTasks,
) -> Response:
    task = await db.scalar(_task_query(user_id, project_id, task_id))
    if task is None:
        raise HTTPException(404, "no such task")
    await db.delete(task)
    await db.commit()
    await invalidate(database, project_id)
    background.add_task(
        record_change, database, user_id, "delete", "task", task_id, {"project_id": project_id}
    )
    return Response(status_code=204)


# attachments -------------------------------------------------------------------------------

MAX_ATTACHMENT = 5 * 1024 * 1024


@app.post(
    "/projects/{project_id}/tasks/{task_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
)
async def upload(
    project_id: int,
    task_id: int,
    user_id: UserId,
    db: AsyncDB,
    database: DB,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
) -> Attachment:
    if await db.scalar(_task_query(user_id, project_id, task_id)) is None:
        raise HTTPException(404, "no such task")
    data = await file.read()
    if len(data) > MAX_ATTACHMENT:
        raise HTTPException(413, "the file is too large")
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
        database,
        user_id,
        "upload",
        "attachment",
        attachment.id,
        {"task_id": task_id, "filename": attachment.filename, "size": attachment.size},
    )
    return attachment


@app.get("/attachments/{attachment_id}")
def download(attachment_id: int, user_id: UserId, db: SyncDB) -> Response:
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


# insight -----------------------------------------------------------------------------------

STATS = (
    "SELECT count(DISTINCT p.id), count(t.id), count(t.id) FILTER (WHERE t.done)"
    " FROM projects p LEFT JOIN tasks t ON t.project_id = p.id WHERE p.owner_id = $1"
)
AUDIT = (
    "SELECT id, action, entity, entity_id, at FROM audit WHERE user_id = $1"
    " ORDER BY at DESC, id DESC LIMIT $2"
)


async def fetch_stats(pool: asyncpg.Pool, user_id: int) -> Stats:
    row = await pool.fetchrow(STATS, user_id)
    return Stats(projects=row[0], tasks=row[1], done=row[2])


@app.get("/stats")
def stats(user_id: UserId, database: DB) -> Stats:
    """A def route: the asyncpg query runs on the app's loop (anyio's way back to it)."""
    return anyio.from_thread.run(fetch_stats, database.pool, user_id)


@app.get("/stats/async")
async def stats_async(user_id: UserId, database: DB) -> Stats:
    return await fetch_stats(database.pool, user_id)


@app.get("/audit", response_model=list[AuditOut])
async def audit(
    user_id: UserId, database: DB, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    return [dict(row) for row in await database.pool.fetch(AUDIT, user_id, limit)]


@app.get("/feed")
async def feed(user_id: UserId, database: DB) -> StreamingResponse:
    pubsub = database.redis.pubsub()
    await pubsub.subscribe(database.settings.feed_channel(user_id))

    async def changes() -> AsyncIterator[bytes]:
        try:
            yield b"event: ready\r\ndata: subscribed\r\n\r\n"
            async for message in pubsub.listen():
                if message["type"] == "message":
                    change = orjson.loads(message["data"])
                    yield (
                        f"event: change\r\ndata: {message['data'].decode()}\r\n"
                        f"id: {change['audit_id']}\r\n\r\n"
                    ).encode()
        finally:
            await pubsub.aclose()

    return StreamingResponse(changes(), media_type="text/event-stream")


@app.get("/health")
async def health(database: DB) -> dict[str, Any]:
    return {"status": "ok", "database": await database.pool.fetchval("SELECT 1") == 1}
