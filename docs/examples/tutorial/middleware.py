"""Built-in middleware in one call each, and your own as a function."""

import time
from collections.abc import Awaitable, Callable

from ambi import App, Request, Response
from ambi.middleware import request_id

app = App()
app.enable_cors(["https://app.example"])
app.enable_request_id()
app.enable_gzip(minimum_size=500)


@app.middleware("http")
async def server_timing(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    response.headers["server-timing"] = (
        f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    )
    return response


@app.get("/report")
def report():
    return {
        "request_id": request_id(),
        "rows": ["row"] * 200,
    }  # big enough to compress
