"""/items: a router with a shared dependency, response models and partial updates."""

from typing import Annotated, Any

from ambi import APIRouter, Depends, HTTPException, Response, status
from ambi.encoders import jsonable_encoder

from ..dependencies import api_version, get_token_header
from ..models import Item, ItemPatch

router = APIRouter(
    prefix="/items",
    tags=["items"],
    dependencies=[Depends(get_token_header)],
    responses={404: {"description": "Not found"}},
)

fake_items_db: dict[str, dict[str, Any]] = {
    "plumbus": {"name": "Plumbus", "price": 3.5},
    "gun": {"name": "Portal Gun", "price": 42.0, "description": None, "tags": []},
}


@router.get("/", response_model=list[Item])
async def read_items() -> Any:
    return list(fake_items_db.values())


@router.get("/{item_id}", response_model=Item, response_model_exclude_unset=True)
async def read_item(item_id: str) -> Any:
    if item_id not in fake_items_db:
        raise HTTPException(
            status_code=404, detail="Item not found", headers={"X-Error": "missing"}
        )
    return fake_items_db[item_id]


@router.post("/", response_model=Item, status_code=status.HTTP_201_CREATED)
def create_item(
    item: Item, response: Response, version: Annotated[str, Depends(api_version)]
) -> Any:
    key = item.name.lower().replace(" ", "-")
    if key in fake_items_db:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail="Item exists")
    fake_items_db[key] = jsonable_encoder(item)
    response.headers["Location"] = f"/items/{key}"
    return item


@router.put(
    "/{item_id}",
    response_model=Item,
    responses={403: {"description": "Operation forbidden"}},
)
async def update_item(item_id: str, item: Item) -> Any:
    if item_id != "plumbus":
        raise HTTPException(status_code=403, detail="You can only update the item: plumbus")
    fake_items_db[item_id] = jsonable_encoder(item)
    return fake_items_db[item_id]


@router.patch("/{item_id}", response_model=Item, response_model_exclude_none=True)
def patch_item(item_id: str, patch: ItemPatch) -> Any:
    if item_id not in fake_items_db:
        raise HTTPException(status_code=404, detail="Item not found")
    stored = Item(**fake_items_db[item_id])
    updated = stored.model_copy(update=patch.model_dump(exclude_unset=True))
    fake_items_db[item_id] = jsonable_encoder(updated)
    return updated
