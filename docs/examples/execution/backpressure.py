"""Backpressure: a full pool answers 503 at once; route limits, 503 and 504."""

import asyncio
import time

from ambi import App

# tiny on purpose: one worker thread, one queued call (defaults: 40 and 256)
app = App(sync_workers=1, sync_queue_limit=1)


@app.get("/report")
def report():  # holds the only worker thread for half a second
    time.sleep(0.5)
    return {"done": True}


@app.get("/ping")
async def ping():  # async routes keep answering while the pool is full
    return {"pong": True}


@app.get("/slow", timeout=0.1)
async def slow():  # over its timeout: 504
    await asyncio.sleep(1)


@app.get("/limited", max_concurrency=1)
async def limited():  # a second concurrent call: 503
    await asyncio.sleep(0.3)
    return {"done": True}
