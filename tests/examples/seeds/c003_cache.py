# ruff: noqa
# fmt: off
"""Seed 003 (Cello, async support): "Async-Compatible Decorators and Wrappers", the block with
`@cache(ttl=120, tags=["items"])` on an async handler.

Copied verbatim; only import lines changed:
  'from cello import App, cache'
    -> 'from ambi import App, cache\nfrom ._db import db'   (the page leaves `db` undefined)
Left out: 'from cello.guards import RoleGuard' and `guards=[RoleGuard(["editor"])]` on
`create_item` (guards are the security issue's); the rest of the block is as written.
"""
from ambi import App, cache
from ._db import db
from pydantic import BaseModel

app = App()

class CreateItem(BaseModel):
    name: str
    price: float

# All three features combined with an async handler
@app.post("/items")
async def create_item(request, item: CreateItem):
    result = await db.insert(item.model_dump())
    return {"id": result["id"], "name": item.name}

# @cache with an async handler
@app.get("/items")
@cache(ttl=120, tags=["items"])
async def list_items(request):
    items = await db.fetch_all("SELECT * FROM items")
    return {"items": items}
