"""Response caching on Redis, and a session login flow.

    python examples/cache.py [PORT]       # needs Redis on 127.0.0.1:6379

Environment: `REDIS_URL` (default `redis://127.0.0.1:6379/0`), `CACHE_PREFIX` (the keys'
prefix in Redis, default `ambi-example:`), `SESSION_SECRET` (default: a development
secret; set a real one). Run it twice on two ports: both processes answer from the same
cache entries and the same sessions, and a write on one invalidates the other's view.

    curl localhost:8000/products                     # cached 60 s, shared by all processes
    curl -i localhost:8000/products/1                # ETag: "..."; Cache-Control: max-age=...
    curl -c jar -X POST localhost:8000/login -H 'content-type: application/json' \\
         -d '{"username": "ada", "password": "lovelace"}'
    curl -b jar -X PUT localhost:8000/products/1/price -H 'content-type: application/json' \\
         -d '{"price": 9.5}'                          # invalidates that product and the list
"""

from __future__ import annotations

import hmac
import os
import sys
from typing import Any

from ambi import App, BaseModel, Field, HTTPException, Request, cache, invalidate

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("CACHE_PREFIX", "ambi-example:")
SECRET = os.environ.get("SESSION_SECRET", "development-only-secret-change-me")

app = App(title="cache and sessions example")
# One Redis, two uses: cached responses, and server-side sessions (a signed id in the cookie).
app.enable_cache(f"{REDIS_URL}?prefix={PREFIX}cache:")
app.enable_sessions(SECRET, store=f"{REDIS_URL}?prefix={PREFIX}", max_age=3600)

# The "database": each process has its copy; in a real app it is shared.
PRODUCTS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Hand saw", "price": 12.0},
    2: {"id": 2, "name": "Spirit level", "price": 20.0},
}
USERS = {"ada": "lovelace", "grace": "hopper"}  # plain text: an example, not a password store


class Login(BaseModel):
    username: str
    password: str


class PriceChange(BaseModel):
    price: float = Field(gt=0)


@app.get("/products")
@cache(ttl=60, tags=["products"])
async def list_products(max_price: float | None = None) -> dict[str, Any]:
    """The catalogue; every process answers from one cache entry per query."""
    found = [p for p in PRODUCTS.values() if max_price is None or p["price"] <= max_price]
    return {"products": found, "served_by": os.getpid()}


@app.get("/products/{product_id:int}")
@cache(ttl=60, tags=["product:{product_id}"])
def get_product(product_id: int) -> dict[str, Any]:
    """One product (a `def` handler: it runs in the thread pool on a miss only)."""
    if product_id not in PRODUCTS:
        raise HTTPException(404, "no such product")  # errors are not cached
    return {**PRODUCTS[product_id], "served_by": os.getpid()}


@app.post("/login")
def login(request: Request, form: Login) -> dict[str, str]:
    expected = USERS.get(form.username)
    if expected is None or not hmac.compare_digest(expected, form.password):
        raise HTTPException(401, "wrong username or password")
    request.session.regenerate()  # a new session id at login: no session fixation
    request.session["user"] = form.username
    return {"user": form.username}


@app.get("/me")
def me(request: Request) -> dict[str, Any]:
    """Who is logged in (never cached: requests with a cookie are not answered from it)."""
    user = request.session.get("user")
    if user is None:
        raise HTTPException(401, "not logged in")
    return {"user": user, "served_by": os.getpid()}


@app.post("/logout")
def logout(request: Request) -> dict[str, bool]:
    request.session.clear()  # deletes the stored session and the cookie
    return {"logged_out": True}


@app.put("/products/{product_id:int}/price")
async def change_price(request: Request, product_id: int, change: PriceChange) -> dict[str, Any]:
    if "user" not in request.session:
        raise HTTPException(401, "log in first")
    if product_id not in PRODUCTS:
        raise HTTPException(404, "no such product")
    PRODUCTS[product_id]["price"] = change.price
    # This product and the lists are gone from the cache, in Redis: for every process.
    await invalidate(tags=[f"product:{product_id}", "products"])
    return PRODUCTS[product_id]


if __name__ == "__main__":
    app.listen(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000)
