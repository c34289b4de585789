"""The pydantic models of POST /orders, shared by the FastAPI and Starlette contenders."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


def summarise(order: Order) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id,
        "item_count": len(order.items),
        "total": sum(item.qty * item.price for item in order.items),
        "priority": order.priority,
        "express": order.express,
    }
