"""Accounts: register, log in (the OAuth2 password form; answers a JWT), who am I.

`register` and `login` are `def` routes on the sync engine: PBKDF2 is CPU work that
releases the GIL, so they belong in the thread pool; `me` is `async def` on the async one.
"""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ambi import APIRouter, Depends, HTTPException, Request
from ambi.security import OAuth2PasswordRequestForm

from ..auth import check_unknown_user, create_token, current_user_id, hash_password, verify_password
from ..db import async_session, database, session
from ..models import NewUser, Token, User, UserOut

router = APIRouter(tags=["accounts"])

UserId = Annotated[int, Depends(current_user_id)]


@router.post("/auth/register", status_code=201, response_model=UserOut)
def register(request: Request, new: NewUser, db: Annotated[Session, Depends(session)]) -> User:
    settings = database(request).settings
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


@router.post("/auth/login")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: Annotated[Session, Depends(session)],
) -> Token:
    settings = database(request).settings
    user = db.scalar(select(User).where(User.username == form.username))
    if user is None:
        check_unknown_user(form.password, settings.password_iterations)
    if user is None or not verify_password(form.password, user.password_hash):
        raise HTTPException(401, "wrong username or password", {"www-authenticate": "Bearer"})
    token, lifetime = create_token(settings, user.id, user.username)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me", response_model=UserOut)
async def me(user_id: UserId, db: Annotated[AsyncSession, Depends(async_session)]) -> User:
    user = await db.get(User, user_id)
    if user is None:  # deleted since the token was made
        raise HTTPException(401, "this account no longer exists", {"www-authenticate": "Bearer"})
    return user
