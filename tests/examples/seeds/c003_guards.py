# ruff: noqa
# fmt: off
"""Seed 003 (Cello async support): Async-Compatible Decorators and Wrappers, the guarded
`create_item` with a pydantic body.

Copied verbatim from the seed document; only import lines changed:
  'from cello import App, cache' -> 'from ambi import App' (`@cache`, used only by the
  snippet's second route, belongs to ambi's cache feature and is not part of this file),
  'from cello.guards import RoleGuard' -> 'from ambi.guards import RoleGuard', and the
  `db` the snippet uses without defining comes from the stand-ins (_cello.py).
"""
from ambi import App
from ambi.guards import RoleGuard
from pydantic import BaseModel
from tests.examples.seeds._cello import db

app = App()

class CreateItem(BaseModel):
    name: str
    price: float

# All three features combined with an async handler
@app.post("/items", guards=[RoleGuard(["editor"])])
async def create_item(request, item: CreateItem):
    result = await db.insert(item.model_dump())
    return {"id": result["id"], "name": item.name}
