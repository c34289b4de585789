"""Response caching: answered from the cache before validation and the handler."""

from ambi import App, BaseModel, cache, invalidate

# in memory; app.enable_cache("redis://...") shares the cache between processes
app = App()

PRODUCTS = {1: {"id": 1, "name": "Hand saw", "price": 12.0}}
CALLS = {"list": 0}


class Price(BaseModel):
    price: float


@app.get("/products")
@cache(ttl=60, tags=["products"])
def list_products():
    CALLS["list"] += 1  # counts the handler's runs: a cache hit does not run it
    return {"products": list(PRODUCTS.values())}


@app.put("/products/{product_id:int}/price")
async def change_price(product_id: int, body: Price):
    PRODUCTS[product_id]["price"] = body.price
    await invalidate(tags=["products"])
    return PRODUCTS[product_id]
