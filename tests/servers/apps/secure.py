"""A guarded, rate-limited app for the real-server security tests:
    python secure.py PORT [SERVER] [INTERFACE]

- `POST /upload` is guarded by `RoleGuard(["editor"])` and takes bodies up to 20 MB: an
  unauthorised upload must be refused before its body is read.
- `GET /shared` is limited through Redis (`AMBI_TEST_REDIS_PREFIX` names the keys), so
  several processes serving this app share one budget.
"""

from __future__ import annotations

import os
import sys

from ambi import App, RateLimitConfig, Request
from ambi.guards import RoleGuard

SECRET = "a-test-secret-of-thirty-two-bytes!!"

app = App(max_body_size=20 * 1024 * 1024)
app.enable_jwt(secret=SECRET)


@app.get("/")
def index() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.post("/upload", guards=[RoleGuard(["editor"])])
def upload(request: Request) -> dict[str, int]:
    return {"size": len(request.body)}


async def everyone(request: Request) -> str:
    return "everyone"


@app.get(
    "/shared",
    rate_limit=RateLimitConfig.fixed_window(
        10,
        60,
        key=everyone,
        storage="redis://127.0.0.1:6379/0",
        prefix=os.environ.get("AMBI_TEST_REDIS_PREFIX", "ambi-test:shared"),
        failure_mode="closed",
    ),
)
async def shared() -> dict[str, int]:
    return {"pid": os.getpid()}


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = sys.argv[2] if len(sys.argv) > 2 else "granian"
    interface = sys.argv[3] if len(sys.argv) > 3 else "rsgi"
    app.listen(port=port, server=server, interface=interface, log_level="warning")
