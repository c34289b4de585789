"""The `db` the Cello seed's examples call and never define: an in-memory table."""

from __future__ import annotations

import asyncio
from typing import Any


class FakeDB:
    """`await db.insert(row)` gives `{"id": n}`; `await db.fetch_all(sql)` every row.

    Counts the reads, so a test can tell a cached answer from a query."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.reads = 0

    async def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        stored = {"id": len(self.rows) + 1, **row}
        self.rows.append(stored)
        return stored

    async def fetch_all(self, query: str) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        self.reads += 1
        return [dict(row) for row in self.rows]


db = FakeDB()
