"""A service ready to deploy: settings from the environment, a lifespan."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ambi import App, Request


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
    # open pools and clients here; what is yielded is on every request.state
    yield {"greeting": os.environ.get("GREETING", "Hello")}
    # and close them here, after the last request


app = App(title="greeter", lifespan=lifespan)
app.enable_request_id()
app.enable_logging()  # one access line per request


@app.get("/health")
async def health():
    return {"status": "ok", "pid": os.getpid()}


@app.get("/greet/{name}")
def greet(name: str, request: Request):
    return {"message": f"{request.state.greeting}, {name}"}


if __name__ == "__main__":
    app.listen(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        workers=int(os.environ.get("WORKERS", "1")),
    )
