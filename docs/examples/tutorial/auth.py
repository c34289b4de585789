"""The OAuth2 password flow with bearer tokens (FastAPI's utilities)."""

import secrets
from typing import Annotated

from ambi import App, BaseModel, Depends, HTTPException
from ambi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm

app = App()
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

USERS = {"ada": "lovelace"}  # an example: store password hashes in a real app
TOKENS: dict[str, str] = {}  # token -> username


class User(BaseModel):
    username: str


@app.post("/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    if USERS.get(form.username) != form.password:
        raise HTTPException(400, "Incorrect username or password")
    token = secrets.token_urlsafe(16)
    TOKENS[token] = form.username
    return {"access_token": token, "token_type": "bearer"}


def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    username = TOKENS.get(token)
    if username is None:
        raise HTTPException(
            401, "Invalid token", headers={"WWW-Authenticate": "Bearer"}
        )
    return User(username=username)


@app.get("/users/me")
async def read_me(user: Annotated[User, Depends(current_user)]) -> User:
    return user
