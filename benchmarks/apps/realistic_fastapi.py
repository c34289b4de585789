"""The realistic-app scenario (`realistic.py`) in FastAPI, written as its docs teach:
APIRouter, `Depends`, CORSMiddleware; the request id as a pure ASGI middleware."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from fastapi.middleware.cors import CORSMiddleware

from . import realistic as spec


async def current_user(authorization: str | None = Header(None)) -> str:
    user = spec.user_from(authorization)
    if user is None:
        raise HTTPException(401, "not authenticated")
    return user


def _resource_routes(router: APIRouter, resource: str) -> None:
    async def listing(limit: int = 10, user: str = Depends(current_user)) -> dict[str, Any]:
        return spec.listing(resource, user, limit)

    async def detail(item_id: int, user: str = Depends(current_user)) -> dict[str, Any]:
        return spec.detail(resource, item_id, user)

    async def events(item_id: int, user: str = Depends(current_user)) -> dict[str, Any]:
        return spec.events(resource, item_id, user)

    async def event(
        item_id: int, event_id: str, user: str = Depends(current_user)
    ) -> dict[str, Any]:
        return spec.event(resource, item_id, event_id, user)

    router.get(f"/{resource}", name=f"{resource}_list")(listing)
    router.get(f"/{resource}/{{item_id}}", name=f"{resource}_detail")(detail)
    router.get(f"/{resource}/{{item_id}}/events", name=f"{resource}_events")(events)
    router.get(f"/{resource}/{{item_id}}/events/{{event_id}}", name=f"{resource}_event")(event)


app = FastAPI()
app.add_middleware(
    CORSMiddleware, allow_origins=[spec.ORIGIN], allow_credentials=True, allow_methods=["*"]
)
app.add_middleware(spec.RequestIdASGI)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/version")
async def version() -> dict[str, str]:
    return {"version": "1"}


for _name, _resources in spec.ROUTERS.items():
    _router = APIRouter(prefix=f"/api/{_name}")
    for _resource in _resources:
        _resource_routes(_router, _resource)
    if _name == "commerce":

        @_router.post("/checkout")
        async def checkout(
            order: spec.Checkout, user: str = Depends(current_user)
        ) -> dict[str, Any]:
            return spec.checkout(order, user)

    app.include_router(_router)
