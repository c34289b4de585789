"""Stand-ins for what the FastAPI seed's snippets use without defining: the `app`, a user
store, an e-mail service, and a real async SQLAlchemy database (SQLite in memory, through
aiosqlite) with a `User` table and the `get_db_session` dependency that yields a session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column
from sqlalchemy.pool import StaticPool

from ambi import App, BaseModel

__all__ = [
    "User",
    "UserCreate",
    "app",
    "db",
    "email_service",
    "get_db_session",
    "select",
    "sessions_opened",
]

app = App()


class Base(MappedAsDataclass, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


engine = create_async_engine(
    "sqlite+aiosqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
)
Session = async_sessionmaker(engine, expire_on_commit=False)
sessions_opened: list[str] = []


@app.on_event("startup")
async def create_schema() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with Session() as session, session.begin():
        if await session.get(User, 1) is None:
            session.add(User(id=1, name="Ada"))


async def get_db_session() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        sessions_opened.append("open")
        try:
            yield session
        finally:
            sessions_opened.append("closed")


class UserCreate(BaseModel):
    name: str
    email: str


class NewUser(BaseModel):
    id: int
    name: str


class UserStore:
    def __init__(self) -> None:
        self.users: list[NewUser] = []

    async def create_user(self, user: UserCreate) -> NewUser:
        await asyncio.sleep(0)
        created = NewUser(id=len(self.users) + 1, name=user.name)
        self.users.append(created)
        return created


class EmailService:
    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, user_id: int) -> None:
        await asyncio.sleep(0)
        self.sent.append(user_id)


db = UserStore()
email_service = EmailService()
