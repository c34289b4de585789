# ruff: noqa
# fmt: off
"""Seed 000 (Catzilla, async/sync hybrid system, HTML rendering): Migration From Sync-Only Code.
The block uses asyncio without importing it: the import is added.

Copied verbatim from the seed document; only import lines changed:
  'from catzilla import Catzilla, JSONResponse, Query'
    -> 'import asyncio\nfrom ambi import App as Catzilla, JSONResponse, Query'
"""
import asyncio
from ambi import App as Catzilla, JSONResponse, Query

app = Catzilla()

# Step 1: Start with existing sync code
@app.get("/user-dashboard")
def user_dashboard_v1(request, user_id: int = Query(..., ge=1, description="User ID")):
    """Original sync version"""

    def get_user_from_db(user_id):
        # Simulate blocking DB call
        import time
        time.sleep(0.1)
        return {"id": user_id, "name": f"User {user_id}"}

    def get_user_posts(user_id):
        # Simulate blocking DB call
        import time
        time.sleep(0.1)
        return [{"id": i, "title": f"Post {i}"} for i in range(3)]

    def get_user_stats(user_id):
        # Simulate blocking DB call
        import time
        time.sleep(0.1)
        return {"posts": 3, "followers": 100}

    user = get_user_from_db(user_id)  # Blocking DB call
    posts = get_user_posts(user_id)   # Blocking DB call
    stats = get_user_stats(user_id)   # Blocking DB call

    return JSONResponse({
        "user": user,
        "posts": posts,
        "stats": stats,
        "version": "v1_sync"
    })


# Step 2: Migrate to async for better I/O performance
@app.get("/user-dashboard-v2")
async def user_dashboard_v2(request, user_id: int = Query(..., ge=1, description="User ID")):
    """Improved async version"""

    async def get_user_from_db_async(user_id):
        # Simulate async DB call
        await asyncio.sleep(0.1)
        return {"id": user_id, "name": f"User {user_id}"}

    async def get_user_posts_async(user_id):
        # Simulate async DB call
        await asyncio.sleep(0.1)
        return [{"id": i, "title": f"Post {i}"} for i in range(3)]

    async def get_user_stats_async(user_id):
        # Simulate async DB call
        await asyncio.sleep(0.1)
        return {"posts": 3, "followers": 100}

    # Run all DB calls concurrently!
    user, posts, stats = await asyncio.gather(
        get_user_from_db_async(user_id),
        get_user_posts_async(user_id),
        get_user_stats_async(user_id)
    )

    return JSONResponse({
        "user": user,
        "posts": posts,
        "stats": stats,
        "version": "v2_async",
        "performance": "3x faster with concurrent I/O"
    })

if __name__ == "__main__":
    app.listen(port=8000)
