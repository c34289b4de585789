"""Every kind of middleware ambi takes, on one small app.

    python examples/middleware.py      # then: curl -i http://127.0.0.1:8000/hello

- built-ins, one call each: CORS, request id, security headers, access log, compression,
  trusted hosts;
- a function middleware, `async def` (on the loop) and `def` (in the thread pool; its
  `call_next` blocks until the rest of the chain has answered);
- an ambi middleware class with options;
- before_request / after_request hooks;
- a standard ASGI middleware class (here a tiny one; Starlette's, OpenTelemetry's and
  Sentry's are added the same way), applied over RSGI too;
- route middleware: `middleware=[...]` on one route (or a Router, or include_router),
  around that route only.

Order, outermost first: ASGI middleware, then the built-ins (whatever order they are
enabled in), then function and class middleware (the last registered outermost), then
the hooks, then routing, then the route's own middleware. See `ambi.middleware._chain`.
"""

from __future__ import annotations

import time
from typing import Any

from ambi import App, HTTPException, Request, Response
from ambi.middleware import Middleware, request_id

app = App()

# Built-ins --------------------------------------------------------------------------------
app.enable_cors(["https://app.example"], allow_credentials=True, expose_headers=["x-request-id"])
app.enable_request_id()
app.enable_security_headers()
app.enable_logging()
app.enable_gzip(minimum_size=500)
app.enable_trusted_hosts(["localhost", "127.0.0.1", "testserver", "*.example"])


# Function middleware ----------------------------------------------------------------------
@app.middleware("http")
async def server_timing(request: Request, call_next: Any) -> Response:
    """Async: runs on the event loop."""
    started = time.perf_counter()
    response: Response = await call_next(request)
    response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


@app.middleware("http")
def api_key(request: Request, call_next: Any) -> Response:
    """Sync: runs in the thread pool, so it may block (a database lookup, say)."""
    if request.path.startswith("/admin") and request.headers.get("x-api-key") != "letmein":
        raise HTTPException(401, "missing or wrong API key")
    response: Response = call_next(request)  # blocks this worker thread, not the loop
    return response


# Class middleware -------------------------------------------------------------------------
class Branding(Middleware):
    def __init__(self, header: str = "x-powered-by", value: str = "ambi") -> None:
        self.header = header
        self.value = value

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers[self.header] = self.value
        return response


app.add_middleware(Branding, value="ambi (example)")


# Hooks ------------------------------------------------------------------------------------
@app.before_request
def maintenance(request: Request) -> Any:
    """Return something to answer without routing (after_request hooks still run)."""
    if request.query_params.get("maintenance") == "1":
        return {"detail": "down for maintenance"}, 503
    return None


@app.after_request
async def no_store(request: Request, response: Response) -> None:
    """Change the response in place, or return a new one to replace it."""
    if request.path.startswith("/admin"):
        response.headers["cache-control"] = "no-store"


# ASGI middleware --------------------------------------------------------------------------
class ASGIHeader:
    """A standard ASGI middleware: `cls(app, **options)`, then `await mw(scope, receive, send)`."""

    def __init__(self, app: Any, name: str, value: str) -> None:
        self.app = app
        self.header = (name.lower().encode("latin-1"), value.encode("latin-1"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_header)


app.add_middleware(ASGIHeader, name="x-asgi", value="yes")


# Routes -----------------------------------------------------------------------------------
@app.get("/hello")
async def hello() -> dict[str, Any]:
    return {"hello": "world", "request_id": request_id()}


@app.get("/admin/stats")
def stats() -> dict[str, int]:
    return {"users": 3}


@app.post("/orders")
async def create_order(request: Request) -> dict[str, Any]:
    return {"created": True, "items": request.json().get("items", [])}


# Route middleware -------------------------------------------------------------------------
async def rows_counted(request: Request, call_next: Any) -> Response:
    """Around /report only: routes without route middleware pay nothing for it."""
    response: Response = await call_next(request)
    response.headers["x-report-rows"] = "500"
    return response


@app.get("/report", middleware=[rows_counted])
def report() -> dict[str, list[int]]:
    return {"rows": list(range(500))}  # big enough to be compressed


if __name__ == "__main__":
    app.listen(port=8000)
