"""The first app: one `def` route and one `async def` route."""

import asyncio
import time

from ambi import App

app = App()


@app.get("/")
def index():
    time.sleep(0.01)  # blocking is fine: a `def` handler runs in the thread pool
    return {"message": "Hello, world"}


@app.get("/hello/{name}")
async def hello(name: str, excited: bool = False):
    await asyncio.sleep(0.01)  # an `async def` handler runs on the event loop
    return {"message": f"Hello, {name}{'!' if excited else '.'}"}


if __name__ == "__main__":
    app.listen(port=8000)  # Granian over RSGI; Ctrl+C stops it gracefully
