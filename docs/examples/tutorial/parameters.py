"""Path, query and header parameters, declared by the handler's signature."""

from typing import Annotated

from ambi import App, Header, Path, Query

app = App()


@app.get("/items/{item_id:int}")
def read_item(
    item_id: int,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
):
    return {"item_id": item_id, "q": q, "limit": limit}


@app.get("/users/{username}")
async def read_user(
    username: Annotated[str, Path(min_length=3)],
    user_agent: Annotated[str | None, Header()] = None,
):
    return {"username": username, "user_agent": user_agent}


@app.get("/files/{file_path:path}")
def read_file(file_path: str):
    return {"file_path": file_path}


@app.get("/search")
def search(tags: Annotated[list[str], Query()] = []):  # noqa: B006 - read once, never mutated
    return {"tags": tags}
