"""Stand-ins for what the Cello seed's snippets use without defining: the `app` (with a
connection pool on `app.db`), the order store and the e-mail and inventory services.

They record what they are asked, so the tests can check what ran, in which order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ambi import App, Response

__all__ = ["Response", "app", "db", "email_service", "inventory_service", "save_order"]

USERS = {"token-ada": {"name": "Ada", "email": "ada@example.com"}}


class Connection:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def fetch_one(self, query: str, token: str) -> dict[str, str] | None:
        await asyncio.sleep(0)
        self.pool.events.append("query")
        return USERS.get(token)

    async def release(self) -> None:
        self.pool.events.append("release")


class Pool:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def acquire(self) -> Connection:
        self.events.append("acquire")
        return Connection(self)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def send(self, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        self.calls.append(("send", kwargs))

    async def decrement(self, sku: str, qty: int) -> None:
        self.calls.append(("decrement", {"sku": sku, "qty": qty}))


class ItemsDB:
    """`db.insert(row)` as the guards example uses it: stores the row, returns its id."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        self.rows.append(row)
        return {"id": len(self.rows), **row}


app = App()
db = ItemsDB()
app.db = Pool()  # type: ignore[attr-defined]
email_service = Recorder()
inventory_service = Recorder()
_orders: list[Any] = []


async def save_order(data: Any) -> int:
    _orders.append(data)
    return len(_orders)
