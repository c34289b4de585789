"""Starlette, served by uvicorn (one worker): the same endpoints, typed by hand.

`/sync-json` is a `def` endpoint, which Starlette runs in its thread pool. The body of
POST /orders is validated with the same pydantic model as the FastAPI contender.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from benchmarks.apps._models import Order, summarise


async def json_async(request: Request) -> JSONResponse:
    return JSONResponse({"message": "hello"})


def json_sync(request: Request) -> JSONResponse:
    return JSONResponse({"message": "hello", "sync": True})


async def read_item(request: Request) -> JSONResponse:
    params = request.query_params
    try:
        limit = int(params.get("limit", "10"))
    except ValueError:
        return JSONResponse({"detail": "limit must be an integer"}, status_code=422)
    item_id: int = request.path_params["item_id"]
    return JSONResponse({"item_id": item_id, "q": params.get("q"), "limit": limit})


async def create_order(request: Request) -> JSONResponse:
    try:
        order = Order.model_validate_json(await request.body())
    except ValidationError as exc:
        return JSONResponse({"detail": exc.errors(include_url=False)}, status_code=422)
    return JSONResponse(summarise(order))


async def with_deps(request: Request) -> JSONResponse:
    host = request.headers.get("host")
    return JSONResponse({"user": "bench" if host else "anonymous", "db": "open"})


def with_deps_sync(request: Request) -> JSONResponse:
    host = request.headers.get("host")
    return JSONResponse({"user": "bench" if host else "anonymous", "db": "open", "sync": True})


app = Starlette(
    routes=[
        Route("/json", json_async),
        Route("/sync-json", json_sync),
        Route("/deps", with_deps),
        Route("/deps-sync", with_deps_sync),
        Route("/items/{item_id:int}", read_item),
        Route("/orders", create_order, methods=["POST"]),
    ]
)
