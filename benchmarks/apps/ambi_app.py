"""ambi, written the way its users write it; served by Granian over RSGI and over ASGI.

`/sync-json` is a `def` handler, which ambi runs in its thread pool.
"""

from __future__ import annotations

from typing import Any

from ambi import App, BaseModel, Field


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
