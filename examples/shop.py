"""A small typed API: parameters from every source, validated bodies, response models, and
its OpenAPI document, with `def` and `async def` handlers side by side.

Run it with `python examples/shop.py`, then open:
    http://127.0.0.1:8000/docs      Swagger UI (served from files inside ambi: no CDN)
    http://127.0.0.1:8000/redoc     ReDoc
    http://127.0.0.1:8000/openapi.json

    curl 'http://127.0.0.1:8000/items/1?q=saw&limit=5'
    curl -X POST http://127.0.0.1:8000/orders -H 'content-type: application/json' \\
         -d '{"customer_id": 1, "email": "ada@example.com",
              "items": [{"sku": "A-1", "qty": 2, "price": 9.5}]}'
"""

import asyncio
import itertools
from enum import StrEnum
from typing import Annotated, Any

from ambi import (
    App,
    BaseModel,
    Body,
    Cookie,
    Field,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    UploadFile,
)

app = App(
    title="ambi shop",
    version="1.0.0",
    description="An example of typed parameters, validation and OpenAPI in ambi.",
)


class Category(StrEnum):
    tools = "tools"
    toys = "toys"
    books = "books"


class Item(BaseModel):
    id: int
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0, le=100_000)
    category: Category
    tags: list[str] = Field(default_factory=list)


class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=50, examples=["Hand saw"])
    price: float = Field(gt=0, le=100_000)
    category: Category
    tags: list[str] = Field([], max_items=10)


class OrderLine(BaseModel):
    sku: str = Field(min_length=1, max_length=20)
    qty: int = Field(gt=0, le=1000)
    price: float = Field(ge=0, le=100_000)


class Order(BaseModel):
    """An order: six fields and a nested list of lines."""

    customer_id: int = Field(ge=1, le=2**31, description="Who orders")
    email: str = Field(regex=r"^[^@\s]+@[^@\s]+$")
    items: list[OrderLine] = Field(min_items=1, max_items=50)
    note: str | None = Field(None, max_length=200)
    priority: int = Field(0, ge=0, le=5)
    express: bool = False


class OrderSummary(BaseModel):
    order_id: int
    customer_id: int
    item_count: int
    total: float
    priority: int
    express: bool


ITEMS: dict[int, Item] = {
    1: Item(id=1, name="Hand saw", price=24.5, category=Category.tools, tags=["wood"]),
    2: Item(id=2, name="Kite", price=12.0, category=Category.toys),
    3: Item(id=3, name="Field guide", price=18.25, category=Category.books, tags=["birds"]),
}
_order_ids = itertools.count(1)


@app.get("/items", tags=["items"])
def list_items(
    category: Category | None = None,
    tags: list[str] = Query([], description="Only items with all these tags (repeat the key)"),
    limit: int = Query(10, ge=1, le=100),
) -> list[Item]:
    """Items, filtered by category and tags."""
    found = [
        item
        for item in ITEMS.values()
        if (category is None or item.category == category) and set(tags) <= set(item.tags)
    ]
    return found[:limit]


@app.get("/items/{item_id}", tags=["items"], response_model=Item)
async def read_item(
    item_id: Annotated[int, Path(ge=1, le=1_000_000, description="The item's id")],
    q: str | None = Query(None, max_length=50),
    limit: int = Query(10, ge=1, le=100),
) -> Any:
    """One item. `q` and `limit` are accepted to show query parameters beside a path one."""
    item = ITEMS.get(item_id)
    if item is None:
        raise HTTPException(404, "no such item")
    return item


@app.post("/items", tags=["items"], status_code=201)
def create_item(item: NewItem) -> Item:
    """Add an item; the response is checked against `Item`."""
    new_id = max(ITEMS) + 1 if len(ITEMS) < 1000 else 1000
    created = Item(id=new_id, **item.model_dump())
    ITEMS[new_id] = created
    return created


@app.post("/orders", tags=["orders"], status_code=201, response_model=OrderSummary)
async def create_order(
    order: Order,
    request_id: str = Header("none", alias="X-Request-ID", max_length=64),
) -> dict[str, Any]:
    """Place an order. Any extra key in the returned dict is filtered out by the model."""
    await asyncio.sleep(0)
    return {
        "order_id": next(_order_ids),
        "customer_id": order.customer_id,
        "item_count": len(order.items),
        "total": round(sum(line.qty * line.price for line in order.items), 2),
        "priority": order.priority,
        "express": order.express,
        "request_id": request_id,  # not in OrderSummary: not sent
    }


@app.put("/items/{item_id}/price", tags=["items"], operation_id="set_item_price")
def set_price(
    item_id: Annotated[int, Path(ge=1, le=1_000_000)],
    price: Annotated[float, Body(embed=True, gt=0, le=100_000)],
    reason: Annotated[str, Body(embed=True, max_length=100)] = "",
) -> dict[str, Any]:
    """Two body parameters: the body is `{"price": ..., "reason": ...}`."""
    item = ITEMS.get(item_id)
    if item is None:
        raise HTTPException(404, "no such item")
    item.price = price
    return {"id": item_id, "price": price, "reason": reason}


@app.get("/me", tags=["session"])
async def whoami(
    session: str | None = Cookie(None, max_length=64),
    user_agent: str = Header("unknown", max_length=200),
) -> dict[str, Any]:
    """A cookie and a header (`user_agent` reads `User-Agent`)."""
    return {"session": session, "user_agent": user_agent}


@app.post("/items/{item_id}/image", tags=["items"])
def upload_image(
    item_id: Annotated[int, Path(ge=1, le=1_000_000)],
    image: UploadFile = File(description="The picture"),
    caption: str = Form("", max_length=100),
) -> dict[str, Any]:
    """A multipart upload with a form field beside the file."""
    return {"item_id": item_id, "filename": image.filename, "size": image.size, "caption": caption}


@app.post("/login", tags=["session"])
async def login(
    username: str = Form(min_length=1, max_length=50), remember: bool = Form(False)
) -> dict[str, Any]:
    """An urlencoded form."""
    return {"user": username, "remember": remember}


@app.get("/legacy-search", tags=["items"], deprecated=True)
def legacy_search(
    term: str = Query(..., min_length=1, max_length=50, regex=r"^\w+$"),
) -> dict[str, Any]:
    """Deprecated: use `GET /items`."""
    return {"term": term, "hits": [i.id for i in ITEMS.values() if term.lower() in i.name.lower()]}


@app.get("/internal/health", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    app.listen(port=8000)
