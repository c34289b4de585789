"""pydantic's validation errors turned into FastAPI's 422 body, field for field.

`loc` starts at the source (`["query", "n"]`, `["body", "items", 0, "qty"]`); form fields
and files are in the body, as in FastAPI (`["body", "file"]`). Errors come in FastAPI's
order: each dependency's inputs before those of what depends on it, within one callable
path, query, header, cookie, and the body last. `input` and `ctx` are made JSON-ready as
FastAPI's `jsonable_encoder` makes them (a validator's exception in `ctx` is `{}` there,
and here). A JSON body that failed is read again FastAPI's way (`_body_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from ..encoders import jsonable_encoder
from ..exceptions import HTTPException, RequestValidationError
from ..http import Request
from ._body_errors import BodyErrors
from ._sources import BODY_FIELD

if TYPE_CHECKING:
    from ._plan import CallPlan, ParamSpec

_LOCATIONS = ("path", "query", "header", "cookie")


def jsonable(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """An error's `input` / `ctx` value made JSON-safe (bytes decoded, objects as text):
    for what FastAPI's encoder cannot take."""
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


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def encoded(value: Any) -> Any:
    """`value` as FastAPI's error handler sends it (`jsonable_encoder`), or as `jsonable`
    makes it when that cannot (an uploaded file, bytes that are not UTF-8)."""
    try:
        return jsonable_encoder(value, custom_encoder={bytes: _text})
    except (ValueError, TypeError, RecursionError):
        return jsonable(value)


def error_order(
    handler: CallPlan, calls: Sequence[CallPlan], params: Sequence[ParamSpec]
) -> dict[str, int]:
    """Each input field's rank in FastAPI's error list (its `solve_dependencies` order)."""
    by_field = {spec.field: spec for spec in params}
    used = {index for call in (handler, *calls) for _, index in call.deps}
    order: list[str] = []
    solved: set[int] = set()

    def solve(call: CallPlan, children: Iterable[int]) -> None:
        for index in children:
            if index not in solved:
                solved.add(index)
                solve(calls[index], [i for _, i in calls[index].deps])
        own = [by_field[field] for _, field in call.outputs if field in by_field]
        for location in _LOCATIONS:
            order.extend(s.field for s in own if s.source == location and s.field not in order)

    route_level = [index for index in range(len(calls)) if index not in used]
    solve(handler, [*route_level, *(index for _, index in handler.deps)])
    order.extend(s.field for s in params if s.field not in order)  # form fields: the body
    return {field: rank for rank, field in enumerate(order)}


class ErrorMapper:
    """Rewrites pydantic's errors into FastAPI's: `loc` from the plan's field names to the
    wire's, FastAPI's order, FastAPI's errors for a failed JSON body."""

    __slots__ = ("body", "locs", "order", "reads_form")

    def __init__(
        self,
        locs: Mapping[str, tuple[str, ...]],
        body: BodyErrors | None,
        order: Mapping[str, int] | None = None,
        reads_form: bool = False,
    ) -> None:
        self.locs = dict(locs)  # field -> ("query", "n"), or ("query",) for a model
        self.body = body  # the route's JSON body, if it has one
        self.order = dict(order or {})
        self.reads_form = reads_form

    def invalid(self, request: Request, exc: ValidationError) -> HTTPException:
        errors = exc.errors(include_url=False)
        own = [e for e in errors if not (e["loc"] and e["loc"][0] == BODY_FIELD)]
        last = len(self.order)
        own.sort(key=lambda e: self.order.get(str(e["loc"][0]), last) if e["loc"] else last)
        items = [self.error(e) for e in own]
        body: Any = None
        if self.body is not None:
            raw = request._body
            failed = len(own) != len(errors)
            if failed and not _is_utf8(raw):
                return HTTPException(400, "request body is not valid UTF-8")
            body, json_error = self.body.decode(raw)
            if failed and json_error is not None:  # FastAPI reports only this
                return RequestValidationError([self.item(json_error)], body=body)
            if failed:
                found = self.body.errors(body, not raw) or [
                    self.error(e) for e in errors if e["loc"] and e["loc"][0] == BODY_FIELD
                ]
                items.extend(self.item(e) for e in found)
        elif self.reads_form and request._form is not None:
            body = request._form
        return RequestValidationError(items, body=body)

    def error(self, error: Any) -> dict[str, Any]:
        loc: list[Any] = list(error["loc"])
        head = loc[0] if loc else None
        # A missing argument's "input" would be the plan's internal dict.
        hide_input = len(loc) == 1 and error["type"] == "missing"
        if head == BODY_FIELD:
            loc[0] = "body"
        elif head in self.locs:
            loc[0:1] = self.locs[head]
        return self.item({**error, "loc": loc, "input": None if hide_input else error["input"]})

    @staticmethod
    def item(error: Mapping[str, Any]) -> dict[str, Any]:
        """One entry of the 422 `detail`, JSON-ready."""
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": list(error["loc"]),
            "msg": error["msg"],
            "input": encoded(error.get("input")),
        }
        ctx = error.get("ctx")
        if ctx:
            item["ctx"] = encoded(ctx)
        return item


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
