"""FastAPI's errors for a JSON body that failed validation, field for field.

ambi validates a JSON body in the same pydantic-core call that parses it (one call for
every input of the route). When that fails, the body is looked at again here, the way
FastAPI reads it, so that the 422 says what FastAPI's says:

- a body that is not JSON: one error, `{"type": "json_invalid", "loc": ["body", <position
  in the text>], "msg": "JSON decode error", "input": {}, "ctx": {"error": <Python's
  message>}}`, and nothing else;
- a single body argument: validated from the decoded value, errors under `["body", ...]`
  (a model given a list says `model_attributes_type`, as FastAPI's `from_attributes`);
- embedded or several body arguments: each read from the object by its key; a missing
  one, or every one when the body is not an object (`null` included), is `missing` with
  input `null`; a value that is there, `null` included, is validated.

This runs only on the error path: a valid request never gets here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import TypeAdapter, ValidationError

if TYPE_CHECKING:
    from ._plan import ParamSpec

Error = dict[str, Any]
_ABSENT: Any = object()  # no body, or no such key (FastAPI's `Undefined`)


def missing(loc: tuple[Any, ...]) -> Error:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


class BodyErrors:
    """Re-reads a failed JSON body FastAPI's way (built once per route, used on errors)."""

    __slots__ = ("_adapters", "embed", "specs")

    def __init__(self, specs: Sequence[ParamSpec], embed: bool) -> None:
        self.specs = tuple(specs)
        self.embed = embed
        self._adapters: dict[str, TypeAdapter[Any]] = {}

    def _adapter(self, spec: ParamSpec) -> TypeAdapter[Any]:
        adapter = self._adapters.get(spec.field)
        if adapter is None:
            annotated: Any = Annotated[spec.annotation, spec.marker.field_info()]
            adapter = self._adapters[spec.field] = TypeAdapter(annotated)
        return adapter

    @staticmethod
    def decode(raw: bytes) -> tuple[Any, Error | None]:
        """The body decoded as Starlette's `request.json()` decodes it (None when empty),
        or FastAPI's error for a body that is not JSON (then the text is the value)."""
        if not raw:
            return None, None
        try:
            return json.loads(raw), None
        except json.JSONDecodeError as exc:
            error = {
                "type": "json_invalid",
                "loc": ("body", exc.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
            return exc.doc, error
        except UnicodeDecodeError as exc:
            # json.loads reads bytes as UTF-8, -16 or -32 by their first bytes; a body that
            # looks like UTF-16/32 and is cut short is a decode error, not a server error
            error = {
                "type": "json_invalid",
                "loc": ("body", exc.start),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": f"not {exc.encoding} text: {exc.reason}"},
            }
            return raw.decode("utf-8", "replace"), error

    def errors(self, body: Any, empty: bool) -> list[Error]:
        """FastAPI's errors for the decoded `body` (`empty`: there was no body at all)."""
        if not self.embed:
            return self._validate(self.specs[0], _ABSENT if empty else body, ("body",))
        found: list[Error] = []
        for spec in self.specs:
            loc = ("body", spec.key)
            if empty:
                value = _ABSENT
            elif isinstance(body, dict):
                value = body.get(spec.key, _ABSENT)
            else:
                found.append(missing(loc))  # FastAPI: `.get` on what is not an object
                continue
            found.extend(self._validate(spec, value, loc))
        return found

    def _validate(self, spec: ParamSpec, value: Any, loc: tuple[Any, ...]) -> list[Error]:
        if value is _ABSENT:
            return [missing(loc)] if spec.required else []
        try:
            self._adapter(spec).validate_python(value, from_attributes=True)
        except ValidationError as exc:
            return [
                {**error, "loc": (*loc, *error["loc"])} for error in exc.errors(include_url=False)
            ]
        return []
