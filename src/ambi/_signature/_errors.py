"""pydantic's validation errors turned into FastAPI's 422 shape.

`loc` starts at the source (`["query", "n"]`, `["body", "items", 0, "qty"]`); form fields
and files are in the body, as in FastAPI (`["body", "file"]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from ..exceptions import HTTPException, RequestValidationError
from ..http import Request
from ._sources import BODY_FIELD


def jsonable(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """An error's `input` / `ctx` value made JSON-safe (bytes decoded, objects as text)."""
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json"))
    if value is PydanticUndefined:
        return None
    return str(value)


class ErrorMapper:
    """Rewrites the `loc` of each error from the plan's field names to the wire's."""

    __slots__ = ("has_body", "locs")

    def __init__(self, locs: Mapping[str, tuple[str, ...]], has_body: bool) -> None:
        self.locs = dict(locs)  # field -> ("query", "n"), or ("query",) for a model
        self.has_body = has_body

    def invalid(self, request: Request, exc: ValidationError) -> HTTPException:
        errors = exc.errors(include_url=False)
        if self.has_body and any(
            e["type"] == "json_invalid" and e["loc"] == (BODY_FIELD,) for e in errors
        ):
            try:
                request._body.decode("utf-8")
            except UnicodeDecodeError as decode_error:
                return HTTPException(400, f"request body is not valid UTF-8: {decode_error}")
        return RequestValidationError([self.error(e) for e in errors])

    def error(self, error: Any) -> dict[str, Any]:
        loc: list[Any] = list(error["loc"])
        head = loc[0] if loc else None
        # A missing argument's "input" would be the plan's internal dict.
        hide_input = len(loc) == 1 and error["type"] == "missing"
        if head == BODY_FIELD:
            loc[0] = "body"
        elif head in self.locs:
            loc[0:1] = self.locs[head]
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": loc,
            "msg": error["msg"],
            "input": None if hide_input else jsonable(error["input"]),
        }
        ctx = error.get("ctx")
        if ctx:
            item["ctx"] = {k: jsonable(v) for k, v in ctx.items()}
        return item
