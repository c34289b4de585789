"""FastAPI, served by uvicorn (one worker). Written the way FastAPI's tutorial writes it.

Handlers carry no return annotation on purpose: an annotation makes FastAPI validate the
return value against it as a response model, which is extra work these routes do not ask for.
"""

from __future__ import annotations

from fastapi import FastAPI

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
