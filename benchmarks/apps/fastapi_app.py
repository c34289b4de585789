"""FastAPI, served by uvicorn (one worker). Written the way FastAPI's tutorial writes it.

Handlers carry no return annotation on purpose: an annotation makes FastAPI validate the
return value against it as a response model, which is extra work these routes do not ask for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from fastapi import Depends, FastAPI, Header

from benchmarks.apps._models import Order, summarise

app = FastAPI()


@app.get("/json")
async def json_async():  # type: ignore[no-untyped-def]
    return {"message": "hello"}


@app.get("/sync-json")
def json_sync():  # type: ignore[no-untyped-def]
    return {"message": "hello", "sync": True}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None, limit: int = 10):  # type: ignore[no-untyped-def]
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/orders")
async def create_order(order: Order):  # type: ignore[no-untyped-def]
    return summarise(order)


async def current_user(host: str = Header()):  # type: ignore[no-untyped-def]
    return "bench" if host else "anonymous"


async def get_db() -> AsyncIterator[str]:
    yield "open"


@app.get("/deps")
async def with_deps(user: str = Depends(current_user), db: str = Depends(get_db)):  # type: ignore[no-untyped-def]
    return {"user": user, "db": db}


def current_user_sync(host: str = Header()):  # type: ignore[no-untyped-def]
    return "bench" if host else "anonymous"


def get_db_sync() -> Iterator[str]:
    yield "open"


@app.get("/deps-sync")
def with_deps_sync(user: str = Depends(current_user_sync), db: str = Depends(get_db_sync)):  # type: ignore[no-untyped-def]
    return {"user": user, "db": db, "sync": True}
