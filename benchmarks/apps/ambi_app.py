"""ambi, written the way its users write it; served by Granian over RSGI and over ASGI.

`/sync-json` is a `def` handler, which ambi runs in its thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from ambi import App, BaseModel, Depends, Field, Header


class Item(BaseModel):
    sku: str
    qty: int = Field(gt=0)
    price: float


class Order(BaseModel):
    customer_id: int
    email: str
    items: list[Item]
    note: str | None = None
    priority: int = Field(ge=0, le=5)
    express: bool = False


app = App()


@app.get("/json")
async def json_async() -> dict[str, Any]:
    return {"message": "hello"}


@app.get("/sync-json")
def json_sync() -> dict[str, Any]:
    return {"message": "hello", "sync": True}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/orders")
async def create_order(order: Order) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id,
        "item_count": len(order.items),
        "total": sum(item.qty * item.price for item in order.items),
        "priority": order.priority,
        "express": order.express,
    }


async def current_user(host: str = Header()) -> str:
    return "bench" if host else "anonymous"


async def get_db() -> AsyncIterator[str]:
    yield "open"


@app.get("/deps")
async def with_deps(user: str = Depends(current_user), db: str = Depends(get_db)) -> dict[str, Any]:
    return {"user": user, "db": db}


def current_user_sync(host: str = Header()) -> str:
    return "bench" if host else "anonymous"


def get_db_sync() -> Iterator[str]:
    yield "open"


@app.get("/deps-sync")
def with_deps_sync(
    user: str = Depends(current_user_sync), db: str = Depends(get_db_sync)
) -> dict[str, Any]:
    return {"user": user, "db": db, "sync": True}
