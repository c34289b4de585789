"""Dependencies: values a handler declares, computed (and cleaned up) by ambi."""

from collections.abc import Iterator
from typing import Annotated

from ambi import App, Depends, Header, HTTPException

app = App()

EVENTS: list[str] = []  # what the dependencies did, in order


class Database:
    def __init__(self) -> None:
        self.rows = {"ada": {"name": "Ada Lovelace"}}

    def close(self) -> None:
        EVENTS.append("db closed")


def get_db() -> Iterator[Database]:
    db = Database()  # `def`: runs in the thread pool, so it may block
    EVENTS.append("db opened")
    try:
        yield db
    finally:
        db.close()  # after the response has been sent


async def current_user(
    db: Annotated[Database, Depends(get_db)],
    x_user: Annotated[str, Header()],
) -> dict[str, str]:
    user = db.rows.get(x_user)
    if user is None:
        raise HTTPException(401, "unknown user")
    return user


def verify_key(x_key: Annotated[str, Header()]) -> None:
    if x_key != "secret":
        raise HTTPException(403, "bad key")


@app.get("/me", dependencies=[Depends(verify_key)])
def me(
    user: Annotated[dict[str, str], Depends(current_user)],
    # the same Database as current_user's: a dependency runs once per request
    db: Annotated[Database, Depends(get_db)],
):
    return {"name": user["name"], "users": len(db.rows)}
