"""The ambi benchmark app (`ambi_app`) with middleware on, for same-run ratios.

- `app`: the built-ins an API serving browsers turns on: CORS (one allowed origin, with
  credentials), request id, security headers.
- `app_function`: one `async def` function middleware that does nothing but call on.
- `app_sync_function`: the same as a `def` (thread pool + bridge back to the loop).
- `app_route_function`: `passthrough` as route middleware (`middleware=[...]`) of /json.
"""

from __future__ import annotations

from typing import Any

from ambi import App

from .ambi_app import app as plain

ORIGIN = "http://localhost:5173"


def _copy_routes(app: App) -> App:
    for route in plain.routes:
        app.add_route(route.path, route.endpoint, route.methods, **route.options)
    return app


app = _copy_routes(App())
app.enable_cors([ORIGIN], allow_credentials=True)
app.enable_request_id()
app.enable_security_headers()

app_function = _copy_routes(App())


@app_function.middleware("http")
async def passthrough(request: Any, call_next: Any) -> Any:
    return await call_next(request)


app_sync_function = _copy_routes(App())


@app_sync_function.middleware("http")
def passthrough_sync(request: Any, call_next: Any) -> Any:
    return call_next(request)


app_route_function = App()
for _route in plain.routes:
    _options: dict[str, Any] = dict(_route.options)
    if _route.path == "/json":
        _options["middleware"] = [passthrough]
    app_route_function.add_route(_route.path, _route.endpoint, _route.methods, **_options)
