"""An app with the status page on, for the live tests: `python -m tests.metrics.dashboard_app
PORT` serves it on 127.0.0.1 (Granian, as `app.listen()` does)."""

from __future__ import annotations

import asyncio
import sys
import time

from ambi import App
from ambi.cache import cache

app = App(loop_block_threshold=0.05)
app.enable_background_tasks(workers=2)
app.enable_metrics()
app.enable_dashboard()


@app.get("/json")
async def json() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/sync")
def sync() -> dict[str, str]:
    time.sleep(0.002)
    return {"hello": "thread"}


@app.get("/items/{item_id}")
@cache(ttl=1)
async def item(item_id: int) -> dict[str, int]:
    await asyncio.sleep(0.001)
    return {"id": item_id}


def chore(n: int) -> int:
    time.sleep(0.01)
    return n


@app.post("/work")
def work() -> dict[str, str]:
    return {"task": app.add_task(chore, 1)}


@app.get("/stall")
async def stall() -> dict[str, bool]:
    time.sleep(0.12)  # blocks the loop on purpose: the page lists it with its stack
    return {"stalled": True}


if __name__ == "__main__":
    app.listen(host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
