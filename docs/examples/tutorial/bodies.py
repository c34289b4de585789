"""A JSON body validated by a pydantic model; bad input is a 422."""

from ambi import App, BaseModel, Field

app = App()


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)
    tags: list[str] = []


@app.post("/items", status_code=201)
async def create_item(item: Item):
    return {
        "name": item.name,
        "price_with_tax": round(item.price * 1.2, 2),
        "tags": item.tags,
    }


@app.put("/items/{item_id:int}")
def replace_item(item_id: int, item: Item, notify: bool = False):
    return {"item_id": item_id, "item": item, "notify": notify}
