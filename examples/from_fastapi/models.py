"""The data the API takes and gives."""

from pydantic import BaseModel, Field


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float = Field(gt=0)
    tax: float = 10.5
    tags: list[str] = []


class ItemPatch(BaseModel):
    """A partial update: only the fields sent are changed."""

    name: str | None = None
    description: str | None = None
    price: float | None = Field(default=None, gt=0)
    tax: float | None = None
    tags: list[str] | None = None


class UserIn(BaseModel):
    username: str
    password: str
    email: str
    full_name: str | None = None


class UserOut(BaseModel):
    username: str
    email: str
    full_name: str | None = None
