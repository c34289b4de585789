"""`app.enable_dashboard(path="/_ambi")`: a live status page of the app, off by default.

One self-contained HTML page (`dashboard.html`, no CDN: it works offline) at `path`, and
its data at `path + "/data"`: `app.metrics()` and the routes' execution kinds as JSON. The
page asks for the data every `interval` seconds (plain polling: no connection held open,
nothing for a proxy or a shutdown to wait for) and shows the routes with their kinds, the
request rate and latency percentiles per route, the thread pool's use and the loop's lag
over the last minutes (charts drawn from what the page has seen), and the latest stalls of
the loop with their stacks.

Who may see it: by default only clients on the loopback interface (`local_only=True`: the
request's peer address is 127.0.0.0/8 or ::1; behind a proxy on the same host that is
the proxy, so put `guards=` in front then); `guards=[...]` (route guards, e.g. one checking
a token) apply to the page and its data. Enabling it enables the request metrics
(`app.enable_metrics(path=None)`) when they are not on yet.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigurationError, HTTPException
from ..http import HTMLResponse, JSONResponse, Request, Response
from ._stats import handler_stats

if TYPE_CHECKING:
    from ..app import App

PAGE = Path(__file__).parent / "dashboard.html"


def is_local(request: Request) -> bool:
    """A guard: True when the client's address is a loopback one (127.0.0.0/8, ::1)."""
    client = request.client
    if client is None:
        raise HTTPException(404)
    try:
        local = ipaddress.ip_address(client[0].split("%", 1)[0]).is_loopback
    except ValueError:  # not an address (a unix socket's peer, a test client's name)
        local = False
    if not local:
        raise HTTPException(404)  # the page does not exist for the outside
    return True


def dashboard_data(app: App) -> dict[str, Any]:
    """What the page shows: the metrics, the routes' kinds, and the time they were read."""
    return {"at": time.time(), "metrics": app.metrics(), "routes": handler_stats(app)["routes"]}


def enable_dashboard(
    app: App,
    path: str,
    guards: Sequence[Callable[..., Any]],
    local_only: bool,
    interval: float,
) -> None:
    """What `app.enable_dashboard` does (see the module docstring)."""
    if not path.startswith("/") or path.endswith("/"):
        raise ConfigurationError(
            f"the dashboard path must start with '/' and not end with one, got {path!r}"
        )
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 0.1:
        raise ConfigurationError(f"interval must be at least 0.1 seconds, got {interval!r}")
    if getattr(app, "_dashboard", None) is not None:
        raise ConfigurationError("the dashboard is already enabled on this app")
    checks = [is_local, *guards] if local_only else list(guards)
    if not checks:
        raise ConfigurationError(
            "enable_dashboard(local_only=False) without guards= would show the app's "
            "internals to anyone: give guards (e.g. one checking a token)"
        )
    html = PAGE.read_text(encoding="utf-8").replace("__INTERVAL_MS__", str(int(interval * 1000)))
    if getattr(app, "_metrics", None) is None:
        app.enable_metrics(path=None)
        app._metrics.implicit = True  # type: ignore[union-attr]  # set just above

    async def status_page() -> Response:
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def status_data() -> Response:
        return JSONResponse(dashboard_data(app), headers={"cache-control": "no-store"})

    app._add_internal_route(path, status_page, guards=checks)
    app._add_internal_route(f"{path}/data", status_data, guards=checks)
    app._dashboard = path
