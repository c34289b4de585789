"""An app with ambi's built-in middleware and an ASGI middleware (Starlette's GZip), served
by `app.listen()` over the server path given on the command line (real-server tests)."""

from __future__ import annotations

import sys
from typing import Any

from starlette.middleware.gzip import GZipMiddleware

from ambi import App, Request, StreamingResponse

app = App()
app.enable_cors(["http://localhost:5173"])
app.enable_request_id()
app.add_middleware(GZipMiddleware, minimum_size=100)


@app.get("/")
async def index() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/echo")
async def echo(request: Request) -> dict[str, Any]:
    return {"size": len(request.body), "head": request.body[:5].decode()}


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def parts() -> Any:
        for i in range(50):
            yield f"part {i} " + "z" * 50 + "\n"

    return StreamingResponse(parts(), media_type="text/plain")


if __name__ == "__main__":
    interface = None if sys.argv[3] == "auto" else sys.argv[3]  # auto: let listen() choose
    app.listen(port=int(sys.argv[1]), server=sys.argv[2], interface=interface)
