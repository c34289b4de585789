# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): I/O-Bound Operations (fetch_user_data). aiohttp is imported
but not used; tests provide a stand-in module when it is not installed.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, Query'
    -> 'from ambi import App as Catzilla, JSONResponse, Query'
"""
from ambi import App as Catzilla, JSONResponse, Query
import asyncio
import aiohttp
import time

app = Catzilla()

@app.get("/fetch-user-data")
async def fetch_user_data(request, user_id: int = Query(..., ge=1, description="User ID to fetch data for")):
    """Database + API calls - perfect for async"""

    # Simulate concurrent I/O operations
    async def fetch_user_profile():
        await asyncio.sleep(0.1)  # Database query
        return {"id": user_id, "name": f"User {user_id}"}

    async def fetch_user_posts():
        await asyncio.sleep(0.15)  # Another database query
        return [{"id": i, "title": f"Post {i}"} for i in range(3)]

    async def fetch_external_data():
        await asyncio.sleep(0.2)  # External API call
        return {"external_score": 95, "verified": True}

    # Run all I/O operations concurrently!
    start_time = time.time()
    user, posts, external = await asyncio.gather(
        fetch_user_profile(),
        fetch_user_posts(),
        fetch_external_data()
    )
    total_time = time.time() - start_time

    return JSONResponse({
        "user": user,
        "posts": posts,
        "external": external,
        "total_time": f"{total_time:.3f}s",
        "sequential_would_be": "0.45s",
        "performance_gain": f"{((0.45 - total_time) / 0.45 * 100):.1f}%",
        "handler_type": "async",
        "execution": "concurrent"
    })

if __name__ == "__main__":
    app.listen(port=8000)
