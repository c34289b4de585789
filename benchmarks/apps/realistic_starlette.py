"""The realistic-app scenario (`realistic.py`) in Starlette: Mount + Route, the auth check
as a helper each endpoint calls (Starlette has no DI), pydantic for the body,
CORSMiddleware; the request id as a pure ASGI middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from . import realistic as spec

Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def current_user(request: Request) -> str:
    user = spec.user_from(request.headers.get("authorization"))
    if user is None:
        raise HTTPException(401, "not authenticated")
    return user


def _resource_routes(resource: str) -> list[Route]:
    async def listing(request: Request) -> JSONResponse:
        user = current_user(request)
        try:
            limit = int(request.query_params.get("limit", "10"))
        except ValueError:
            return JSONResponse({"detail": "limit must be an integer"}, 422)
        return JSONResponse(spec.listing(resource, user, limit))

    async def detail(request: Request) -> JSONResponse:
        user = current_user(request)
        return JSONResponse(spec.detail(resource, request.path_params["item_id"], user))

    async def events(request: Request) -> JSONResponse:
        user = current_user(request)
        return JSONResponse(spec.events(resource, request.path_params["item_id"], user))

    async def event(request: Request) -> JSONResponse:
        user = current_user(request)
        params = request.path_params
        return JSONResponse(spec.event(resource, params["item_id"], params["event_id"], user))

    return [
        Route(f"/{resource}", listing),
        Route(f"/{resource}/{{item_id:int}}", detail),
        Route(f"/{resource}/{{item_id:int}}/events", events),
        Route(f"/{resource}/{{item_id:int}}/events/{{event_id}}", event),
    ]


async def checkout(request: Request) -> JSONResponse:
    user = current_user(request)
    try:
        order = spec.Checkout.model_validate_json(await request.body())
    except pydantic.ValidationError as exc:
        return JSONResponse({"detail": exc.errors(include_url=False)}, 422)
    return JSONResponse(spec.checkout(order, user))


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def version(request: Request) -> JSONResponse:
    return JSONResponse({"version": "1"})


def _mounts() -> list[Any]:
    mounts: list[Any] = [Route("/health", health), Route("/version", version)]
    for name, resources in spec.ROUTERS.items():
        routes = [route for resource in resources for route in _resource_routes(resource)]
        if name == "commerce":
            routes.append(Route("/checkout", checkout, methods=["POST"]))
        mounts.append(Mount(f"/api/{name}", routes=routes))
    return mounts


app = Starlette(
    routes=_mounts(),
    middleware=[
        Middleware(spec.RequestIdASGI),
        Middleware(
            CORSMiddleware, allow_origins=[spec.ORIGIN], allow_credentials=True, allow_methods=["*"]
        ),
    ],
)
