"""Cello 1.4.1 (cello-framework: a Rust HTTP server, router and JSON layer under Python
handlers), one worker, written the way Cello's README writes handlers: each takes the
request; the validated body through pydantic as Cello's `body=` option does it.

Cello needs Python 3.12 and its own process: the runner starts this module with the
interpreter named by `AMBI_BENCH_CELLO_PYTHON` (a venv with `cello-framework==1.4.1`,
`pydantic` and `orjson`; see benchmarks/README.md), and Cello reads `--host`, `--port`,
`--workers`, `--env` and `--no-logs` from the command line. /deps and /deps-sync are not
served: Cello has no generator dependencies.
"""

from __future__ import annotations

from typing import Any

from cello import App  # type: ignore[import-not-found]

from benchmarks.apps._models import Order, summarise

app = App()


@app.get("/json")
async def json_async(request: Any) -> dict[str, Any]:
    return {"message": "hello"}


@app.get("/sync-json")
def json_sync(request: Any) -> dict[str, Any]:
    return {"message": "hello", "sync": True}


@app.get("/items/{item_id}")
async def read_item(request: Any) -> dict[str, Any]:
    # Cello converts nothing by itself: the typed parameters are read as its docs do.
    q = request.get_query_param("q")
    return {
        "item_id": request.get_param_int("item_id"),
        "q": q,
        "limit": request.get_query_int("limit", 10),
    }


@app.post("/orders", body=Order)
async def create_order(request: Any, order: Order) -> dict[str, Any]:
    return summarise(order)


if __name__ == "__main__":
    app.run(workers=1, env="production", logs=False)
