"""The response model: what a handler's result is checked against and filtered through.

It comes from the route's `response_model=` option, or else from the handler's return
annotation (FastAPI's rule). A result that fails its own model is a server bug:
`ResponseValidationError`, which the app logs and answers with a 500.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

from ..exceptions import ResponseValidationError, SignatureError
from ..http import JSONResponse, Response
from ._annotations import type_hints

#: Return annotations that say how the handler answers rather than what it returns.
_NOT_MODELS: tuple[Any, ...] = (None, type(None), Any, object, str, bytes, bytearray)
_NOT_MODEL_ORIGINS: tuple[Any, ...] = (
    tuple,
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.Generator,
    collections.abc.AsyncGenerator,
    collections.abc.Awaitable,
    collections.abc.Coroutine,
)


def _loose_container(annotation: Any) -> type | None:
    """`dict` for `dict` / `dict[str, Any]`, `list` for `list` / `list[Any]`: models that
    check nothing but the container's type."""
    if annotation in (dict, list):
        return typing.cast(type, annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and args == (Any,):
        return list
    if origin is dict and len(args) == 2 and args[0] in (str, Any) and args[1] is Any:
        return dict
    return None


class ResponseModel:
    """A compiled response model: `render(result, status)` validates, filters, serialises."""

    __slots__ = ("adapter", "annotation", "loose")

    def __init__(self, annotation: Any) -> None:
        self.annotation = annotation
        self.adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        self.loose = _loose_container(annotation)

    def render(self, result: Any, status_code: int | None) -> Response:
        """The JSON response for `result`, keeping only what the model declares."""
        loose = self.loose
        if loose is not None and type(result) is loose:
            # PERF: `-> dict[str, Any]` checks only the container; skip pydantic's
            # validate + dump (about 1.5 us) and send it as any dict is sent.
            return JSONResponse(result, status_code or 200)
        try:
            value = self.adapter.validate_python(result, from_attributes=True)
        except ValidationError as exc:
            raise ResponseValidationError(exc.errors(include_url=False)) from None
        body = self.adapter.dump_json(value, by_alias=True)
        return Response(body, status_code or 200, media_type="application/json")

    def jsonable(self, result: Any) -> Any:
        """`result` validated and filtered through the model, as JSON-compatible data
        (for a `response_class` that renders the content itself)."""
        try:
            value = self.adapter.validate_python(result, from_attributes=True)
        except ValidationError as exc:
            raise ResponseValidationError(exc.errors(include_url=False)) from None
        return self.adapter.dump_python(value, mode="json", by_alias=True)

    def __repr__(self) -> str:
        return f"ResponseModel({self.annotation!r})"


def _describes_a_model(annotation: Any) -> bool:
    if annotation is inspect.Parameter.empty or annotation in _NOT_MODELS:
        return False
    if inspect.isclass(annotation) and issubclass(annotation, Response):
        return False
    origin = get_origin(annotation)
    if origin in _NOT_MODEL_ORIGINS:
        return False
    if origin is typing.Annotated:
        return _describes_a_model(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = get_args(annotation)
        real = [a for a in args if a is not type(None)]
        return bool(real) and all(_describes_a_model(a) for a in real)
    return True


def compile_response_model(
    fn: Callable[..., Any], options: Mapping[str, Any], label: str
) -> ResponseModel | None:
    """The response model for a route, or None when results are sent as they are.

    `response_model=None` turns it off; a return annotation that is a `Response`, `str`,
    `bytes`, `None`, a tuple or an iterator is not a model.
    """
    explicit = "response_model" in options
    if explicit:
        annotation = options["response_model"]
        if annotation is None:
            return None
    else:
        annotation = type_hints(fn, label).get("return", inspect.Parameter.empty)
        if not _describes_a_model(annotation):
            return None
    try:
        return ResponseModel(annotation)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        where = "response_model" if explicit else "the return annotation"
        raise SignatureError(
            f"{label}: {where} {annotation!r} cannot be validated ({exc}); "
            "pass response_model=None to send results unchecked"
        ) from exc
