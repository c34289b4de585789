"""/users and /login: form login with a cookie, output models that drop fields."""

from typing import Annotated, Any

from ambi import APIRouter, Cookie, Form, HTTPException, Response, status

from ..models import UserIn, UserOut

router = APIRouter(tags=["users"])

fake_users_db: dict[str, dict[str, Any]] = {
    "rick": {"username": "rick", "password": "wubba", "email": "rick@example.com"},
}


@router.get("/users/", response_model=list[UserOut])
def read_users() -> Any:
    return list(fake_users_db.values())


@router.post("/users/", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(user: UserIn) -> Any:
    fake_users_db[user.username] = user.model_dump()
    return user  # the password stays out: the response model has none


@router.post("/login")
def login(
    username: Annotated[str, Form()], password: Annotated[str, Form()], response: Response
) -> dict[str, str]:
    user = fake_users_db.get(username)
    if user is None or user["password"] != password:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Bad credentials")
    response.set_cookie(key="session", value=username, httponly=True)
    return {"message": f"Welcome {username}"}


@router.get("/users/me", response_model=UserOut, response_model_exclude_none=True)
def read_user_me(session: Annotated[str | None, Cookie()] = None) -> Any:
    if session is None or session not in fake_users_db:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Not logged in")
    return fake_users_db[session]
