# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Automatic Handler Detection.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, BaseModel, Field, Query'
    -> 'from ambi import App as Catzilla, JSONResponse, BaseModel, Field, Query'
"""
from ambi import App as Catzilla, JSONResponse, BaseModel, Field, Query
from typing import List, Optional
import asyncio

app = Catzilla()

# Sync handler - Catzilla automatically detects this
@app.get("/sync")
def sync_handler(request):
    # Runs in optimized thread pool
    # Perfect for CPU-bound operations
    return JSONResponse({"type": "sync", "execution": "thread_pool"})

# Async handler - Catzilla automatically detects this
@app.get("/async")
async def async_handler(request):
    # Runs in event loop
    # Perfect for I/O-bound operations
    await asyncio.sleep(0.1)  # Non-blocking!
    return JSONResponse({"type": "async", "execution": "event_loop"})

if __name__ == "__main__":
    app.listen(port=8000)
