"""The demo app: one `def` route and one `async def` route, side by side.

Run it with `make demo` (or `python examples/hello.py`), then:
    curl http://127.0.0.1:8000/sync
    curl http://127.0.0.1:8000/async
    curl http://127.0.0.1:8000/hello/world
"""

import asyncio
import threading
import time

from ambi import App, JSONResponse

app = App()


@app.get("/")
def index(request):
    return {"routes": ["/sync", "/async", "/hello/{name}"]}


@app.get("/sync")
def sync_handler(request):
    """A blocking handler: it runs in the thread pool, never on the event loop."""
    time.sleep(0.05)
    return JSONResponse(
        {"type": "sync", "execution": "thread_pool", "thread": threading.current_thread().name}
    )


@app.get("/async")
async def async_handler(request):
    """A coroutine handler: it runs on the event loop."""
    await asyncio.sleep(0.05)
    return {"type": "async", "execution": "event_loop"}


@app.get("/hello/{name}")
async def hello(name: str, excited: bool = False):
    return {"message": f"Hello, {name}{'!' if excited else '.'}"}


if __name__ == "__main__":
    app.listen(port=8000)
