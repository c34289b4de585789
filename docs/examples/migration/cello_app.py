"""A Cello app on ambi: only the imports changed (Cello's above each)."""

import asyncio
import os

from pydantic import BaseModel

# from cello import App, BackgroundTasks, Depends, RateLimitConfig, Response, cache
from ambi import App, BackgroundTasks, Depends, RateLimitConfig, Response, cache

from ambi import HTTPException

# from cello.guards import RoleGuard
from ambi.guards import RoleGuard


class Pool:
    """A stand-in connection pool that records what it is asked."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.users = {"token-ada": {"name": "Ada", "email": "ada@example.com"}}

    async def acquire(self) -> "Pool":
        self.events.append("acquire")
        return self

    async def release(self) -> None:
        self.events.append("release")

    async def fetch_user(self, token: str) -> dict[str, str] | None:
        await asyncio.sleep(0)
        return self.users.get(token)


app = App()
app.enable_cors()
app.enable_logging()
app.enable_rate_limit(RateLimitConfig.token_bucket(requests=100, window=60))
# RoleGuard reads the roles of request.auth: here the claims of a verified JWT
JWT_SECRET = os.environ.get("JWT_SECRET", "development-only-secret-change-me!")
app.enable_jwt(secret=JWT_SECRET, exclude=["/profile"])  # /profile: its own tokens
SENT: list[str] = []


@app.on_event("startup")
async def startup():
    app.db = Pool()


async def get_db():
    conn = await app.db.acquire()
    try:
        yield conn
    finally:
        await conn.release()


async def get_current_user(request, db=Depends(get_db)):
    token = request.headers.get("authorization", "").replace("Bearer ", "")
    user = await db.fetch_user(token)
    if not user:
        # Cello's page raises ValueError here: a 500 for a bad token
        raise HTTPException(401, "Invalid token")
    return user


@app.get("/profile")
async def profile(request, user=Depends(get_current_user)):
    return {"name": user["name"], "email": user["email"]}


async def send_confirmation(order_id: int) -> None:
    SENT.append(f"order {order_id}")


@app.post("/orders")
async def create_order(request):
    data = request.json()  # the body is read already: no await needed
    tasks = BackgroundTasks()  # made inside the handler, run after the response
    tasks.add_task(send_confirmation, data["id"])
    return Response.json({"order_id": data["id"], "status": "created"}, status=201)


ITEMS = [{"name": "saw"}]


@app.get("/items")
@cache(ttl=120, tags=["items"])
async def list_items(request):
    return {"items": list(ITEMS)}


class CreateItem(BaseModel):
    name: str
    price: float


@app.post("/items", guards=[RoleGuard(["editor"])])
async def create_item(request, item: CreateItem):
    ITEMS.append({"name": item.name})
    return {"name": item.name}
