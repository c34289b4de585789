# ruff: noqa
# fmt: off
"""Seed 003 (Cello async support): Async Dependency Injection.

Copied verbatim from the seed document; only import lines changed:
  'from cello import App, Depends' -> 'from ambi import App, Depends', and the `app` the
  snippet uses without defining comes from the stand-ins (tests/examples/seeds/_cello.py).
"""
from ambi import App, Depends
from tests.examples.seeds._cello import app

async def get_db():
    """Provide a database connection from the pool."""
    conn = await app.db.acquire()
    try:
        yield conn
    finally:
        await conn.release()

async def get_current_user(request, db=Depends(get_db)):
    """Extract and validate the current user."""
    token = request.headers.get("authorization", "").replace("Bearer ", "")
    user = await db.fetch_one("SELECT * FROM users WHERE token = $1", token)
    if not user:
        raise ValueError("Invalid token")
    return user

@app.get("/profile")
async def profile(request, user=Depends(get_current_user)):
    return {"name": user["name"], "email": user["email"]}
