"""The loop-blocking detector: it names the route that stalled the event loop."""

import asyncio
import time

from ambi import App, run_sync

app = App(loop_block_threshold=0.1)  # report stalls over 100 ms (the default)


@app.get("/bad")
async def bad():
    time.sleep(0.3)  # a blocking call inside async def: every request waits for it
    return {"slept": 0.3}


@app.get("/good")
async def good():
    await run_sync(time.sleep, 0.3)  # the same call, in the thread pool
    await asyncio.sleep(0)
    return {"slept": 0.3}
