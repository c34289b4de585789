"""A FastAPI program on ambi: only the imports changed (FastAPI's above each)."""

from typing import Annotated

from pydantic import BaseModel

# from fastapi import FastAPI, APIRouter, Depends, HTTPException, Query, status
from ambi import APIRouter, Depends, HTTPException, Query, status
from ambi import App as FastAPI

# from fastapi.encoders import jsonable_encoder
from ambi.encoders import jsonable_encoder

# from fastapi.responses import HTMLResponse
from ambi.responses import HTMLResponse

app = FastAPI()
router = APIRouter(prefix="/items", tags=["items"])


class Item(BaseModel):
    name: str
    price: float
    secret_note: str | None = None


class PublicItem(BaseModel):
    name: str
    price: float


fake_db: dict[str, Item] = {}


def pagination(
    skip: int = 0, limit: Annotated[int, Query(le=100)] = 10
) -> dict[str, int]:
    return {"skip": skip, "limit": limit}


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=PublicItem)
async def create_item(item: Item):
    fake_db[item.name] = item
    return item


@router.get("/")
def list_items(page: Annotated[dict[str, int], Depends(pagination)]):
    names = sorted(fake_db)[page["skip"] : page["skip"] + page["limit"]]
    return {"items": names, **page}


@router.get("/{name}")
async def read_item(name: str):
    if name not in fake_db:
        raise HTTPException(status_code=404, detail="Item not found")
    return jsonable_encoder(fake_db[name], exclude={"secret_note"})


app.include_router(router)


@app.get("/", response_class=HTMLResponse)
async def home():
    return "<h1>Items</h1>"
