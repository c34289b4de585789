"""One async implementation, called from sync and async code."""

import asyncio

from ambi import App, run_sync, smartasync


class Inventory:
    def __init__(self) -> None:
        self.stock = {"saw": 3, "level": 0}

    @smartasync
    async def count(self, sku: str) -> int:
        await asyncio.sleep(0.01)  # an async driver call, say
        return self.stock.get(sku, 0)


inventory = Inventory()


def report() -> dict[str, int]:
    """Plain sync code (a script, a CLI): no `await`, no asyncio.run()."""
    return {sku: inventory.count(sku) for sku in ("saw", "level")}


app = App()


@app.get("/sync/{sku}")
def sync_count(sku: str):
    # in the thread pool: the coroutine runs on the app's own loop
    return {"sku": sku, "count": inventory.count(sku)}


@app.get("/async/{sku}")
async def async_count(sku: str):  # on the loop: awaited as usual
    return {"sku": sku, "count": await inventory.count(sku)}


def legacy_total(skus: list[str]) -> int:
    """Blocking library code that itself calls the async inventory."""
    return sum(inventory.count(sku) for sku in skus)


@app.get("/total")
async def total():
    return {"total": await run_sync(legacy_total, ["saw", "level"])}
