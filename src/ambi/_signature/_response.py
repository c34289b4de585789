"""The response model: what a handler's result is checked against and filtered through.

It comes from the route's `response_model=` option, or else from the handler's return
annotation (FastAPI's rule). A result that fails its own model is a server bug:
`ResponseValidationError`, which the app logs and answers with a 500.

FastAPI's output options are honoured, as pydantic's dump options:
`response_model_include`, `response_model_exclude`, `response_model_by_alias` (True by
default), `response_model_exclude_unset`, `response_model_exclude_defaults` and
`response_model_exclude_none`. A route that gives one without a response model is
refused (the option would do nothing).
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

from ..exceptions import ConfigurationError, ResponseValidationError, SignatureError
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


#: Route option -> pydantic dump option.
DUMP_OPTIONS = {
    "response_model_include": "include",
    "response_model_exclude": "exclude",
    "response_model_by_alias": "by_alias",
    "response_model_exclude_unset": "exclude_unset",
    "response_model_exclude_defaults": "exclude_defaults",
    "response_model_exclude_none": "exclude_none",
}
_DEFAULT_DUMP: dict[str, Any] = {"by_alias": True}


class ResponseModel:
    """A compiled response model: `render(result, status)` validates, filters, serialises."""

    __slots__ = ("adapter", "annotation", "dump", "loose")

    def __init__(self, annotation: Any, dump: Mapping[str, Any] | None = None) -> None:
        self.annotation = annotation
        self.adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        #: pydantic's dump options (by_alias, include, exclude, exclude_unset, ...).
        self.dump: dict[str, Any] = {**_DEFAULT_DUMP, **(dump or {})}
        # A loose container (`-> dict[str, Any]`) is sent as it is, unless an option
        # filters it.
        self.loose = _loose_container(annotation) if self.dump == _DEFAULT_DUMP else None

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
            raise ResponseValidationError(exc.errors(include_url=False), body=result) from None
        body = self.adapter.dump_json(value, **self.dump)
        return Response(body, status_code or 200, media_type="application/json")

    def jsonable(self, result: Any) -> Any:
        """`result` validated and filtered through the model, as JSON-compatible data
        (for a `response_class` that renders the content itself)."""
        try:
            value = self.adapter.validate_python(result, from_attributes=True)
        except ValidationError as exc:
            raise ResponseValidationError(exc.errors(include_url=False), body=result) from None
        return self.adapter.dump_python(value, mode="json", **self.dump)

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


def _dump_option(option: str, value: Any, label: str) -> Any:
    """`value` checked (and a list made a set) for the pydantic option `option` stands for."""
    if option in ("response_model_include", "response_model_exclude"):
        if isinstance(value, list | tuple | set | frozenset):
            return set(value)
        if isinstance(value, Mapping):
            return value
        raise ConfigurationError(
            f"{label}: {option} takes a set of field names (or a dict for nested fields), "
            f"not {value!r}"
        )
    if not isinstance(value, bool):
        raise ConfigurationError(f"{label}: {option} is True or False, not {value!r}")
    return value


def compile_response_model(
    fn: Callable[..., Any], options: Mapping[str, Any], label: str
) -> ResponseModel | None:
    """The response model for a route, or None when results are sent as they are.

    `response_model=None` turns it off; a return annotation that is a `Response`, `str`,
    `bytes`, `None`, a tuple or an iterator is not a model.
    """
    dump = {
        DUMP_OPTIONS[k]: _dump_option(k, v, label) for k, v in options.items() if k in DUMP_OPTIONS
    }
    explicit = "response_model" in options
    annotation = options.get("response_model") if explicit else None
    if not explicit:
        annotation = type_hints(fn, label).get("return", inspect.Parameter.empty)
    if annotation is None or (not explicit and not _describes_a_model(annotation)):
        if dump:
            names = ", ".join(k for k in options if k in DUMP_OPTIONS)
            raise ConfigurationError(
                f"{label}: {names} filter(s) the response model, and this route has none "
                "(give response_model= or a return annotation that is a model)"
            )
        return None
    try:
        return ResponseModel(annotation, dump)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        where = "response_model" if explicit else "the return annotation"
        raise SignatureError(
            f"{label}: {where} {annotation!r} cannot be validated ({exc}); "
            "pass response_model=None to send results unchecked"
        ) from exc
