"""Compiling a handler's signature, once, into a `HandlerPlan`.

The plan knows where each argument comes from (the request itself, the path, the query
string, headers, cookies, the body, a form) and holds ONE pydantic model that validates
all of them in a single call per request. Errors come back with `loc` starting at the
source (`["query", "n"]`, `["body", "items", 0, "qty"]`).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import pydantic
from pydantic import BaseModel, Json, ValidationError, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic_core import PydanticUndefined

from ..exceptions import RequestValidationError, SignatureError
from ..http import Request
from ..params import Body, Form, Header, Param, Path, Query
from ..routing import Converter

Source = Literal["path", "query", "header", "cookie", "body", "form", "file"]

#: Types injected by ambi rather than read from the request: type -> factory(request).
#: Later features (BackgroundTasks, ...) register theirs with `register_injectable`.
_INJECTABLES: dict[type, Callable[[Request], Any]] = {}


def register_injectable(cls: type, factory: Callable[[Request], Any]) -> None:
    """Make every handler argument annotated `cls` receive `factory(request)`."""
    _INJECTABLES[cls] = factory


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One argument read from the request."""

    name: str  # the handler's parameter name
    field: str  # the field name in the plan's model
    source: Source
    key: str  # the name on the wire: query key, header name, cookie name, JSON key
    annotation: Any
    marker: Param
    is_list: bool = False

    @property
    def required(self) -> bool:
        return self.marker.required


@dataclass(slots=True)
class HandlerPlan:
    """Where every argument of one handler comes from, and the validator for them all."""

    request_names: tuple[str, ...] = ()
    injected: tuple[tuple[str, Callable[[Request], Any]], ...] = ()
    params: tuple[ParamSpec, ...] = ()
    body_params: tuple[ParamSpec, ...] = ()
    embed_body: bool = False
    model: type[BaseModel] | None = None
    reads_form: bool = False
    request_first: bool = False  # the request is the first positional parameter

    @property
    def only_request(self) -> bool:
        """Nothing to extract: the handler takes no argument, or only the request first."""
        if self.model is not None or self.injected:
            return False
        return not self.request_names or (len(self.request_names) == 1 and self.request_first)

    def extract(self, request: Request) -> dict[str, Any]:
        """The handler's keyword arguments for `request`; `RequestValidationError` if invalid."""
        kwargs: dict[str, Any] = {name: request for name in self.request_names}
        for name, factory in self.injected:
            kwargs[name] = factory(request)
        model = self.model
        if model is None:
            return kwargs
        raw = self._raw(request)
        try:
            validated = model.__pydantic_validator__.validate_python(raw)
        except ValidationError as exc:
            raise RequestValidationError(self._errors(exc)) from None
        values = validated.__dict__
        for spec in self.params:
            kwargs[spec.name] = values[spec.field]
        if self.body_params:
            body = values["body__"]
            if self.embed_body:
                for spec in self.body_params:
                    kwargs[spec.name] = getattr(body, spec.field)
            else:
                kwargs[self.body_params[0].name] = body
        return kwargs

    def _raw(self, request: Request) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for spec in self.params:
            value: Any
            source = spec.source
            if source == "path":
                value = request.path_params.get(spec.key, PydanticUndefined)
            elif source == "query":
                query = request.query_params
                value = query.getlist(spec.key) if spec.is_list else query.get(spec.key)
                if spec.is_list and not value:
                    value = None
            elif source == "header":
                headers = request.headers
                value = headers.getlist(spec.key) if spec.is_list else headers.get(spec.key)
                if spec.is_list and not value:
                    value = None
            elif source == "cookie":
                value = request.cookies.get(spec.key)
            else:
                form = request.form()
                value = form.getlist(spec.key) if spec.is_list else form.get(spec.key)
                if spec.is_list and not value:
                    value = None
            if value is not None and value is not PydanticUndefined:
                raw[spec.field] = value
        if self.body_params and request.body:
            raw["body__"] = request.body
        return raw

    def _errors(self, exc: ValidationError) -> list[dict[str, Any]]:
        by_field = {spec.field: spec for spec in self.params}
        errors: list[dict[str, Any]] = []
        for error in exc.errors(include_url=False):
            loc = list(error["loc"])
            head = loc[0] if loc else None
            if head == "body__":
                if self.embed_body and len(loc) > 1:
                    spec = next((s for s in self.body_params if s.field == loc[1]), None)
                    loc = ["body", spec.key if spec else loc[1], *loc[2:]]
                else:
                    loc = ["body", *loc[1:]]
            elif isinstance(head, str) and head in by_field:
                spec = by_field[head]
                loc = [spec.source, spec.key, *loc[1:]]
            item: dict[str, Any] = {
                "type": error["type"],
                "loc": loc,
                "msg": error["msg"],
                "input": _jsonable_input(error.get("input")),
            }
            if error.get("ctx"):
                item["ctx"] = {k: _jsonable_input(v) for k, v in error["ctx"].items()}
            errors.append(item)
        return errors


def _jsonable_input(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable_input(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable_input(v) for v in value]
    if value is PydanticUndefined:
        return None
    return str(value)


# Compiling --------------------------------------------------------------------------------

_SCALARS = (str, int, float, bool, bytes)


def _strip_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is Annotated:
        return _strip_optional(get_args(annotation)[0])
    return annotation


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(_strip_optional(annotation))
    return origin in (list, set, frozenset, tuple, Sequence)


def _is_model_like(annotation: Any) -> bool:
    bare = _strip_optional(annotation)
    return inspect.isclass(bare) and (issubclass(bare, BaseModel) or dataclasses.is_dataclass(bare))


def _is_body_type(annotation: Any) -> bool:
    """FastAPI's rule: models, dataclasses, dicts and sequences of them are the body."""
    bare = _strip_optional(annotation)
    origin = get_origin(bare) or bare
    if _is_model_like(bare) or origin in (dict, Mapping):
        return True
    if _is_sequence(bare):
        inner = get_args(bare)
        return bool(inner) and not all(
            _strip_optional(a) in _SCALARS or a is Ellipsis for a in inner
        )
    return False


def _is_request(name: str, annotation: Any) -> bool:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return name == "request"
    bare = _strip_optional(annotation)
    return inspect.isclass(bare) and issubclass(bare, Request)


def _split_annotated(annotation: Any) -> tuple[Any, Param | None]:
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        markers = [e for e in extras if isinstance(e, Param)]
        if len(markers) > 1:
            raise SignatureError(f"more than one parameter marker in {annotation!r}")
        rest = [e for e in extras if not isinstance(e, Param)]
        if rest:
            base = Annotated[(base, *rest)]  # keep constraints such as Field(ge=1)
        return base, (markers[0] if markers else None)
    return annotation, None


def _marker_for(
    name: str, annotation: Any, default: Any, path_names: Mapping[str, Converter]
) -> Param:
    """The marker for an unmarked argument (FastAPI's inference rules)."""
    value = ... if default is inspect.Parameter.empty else default
    if name in path_names:
        return Path(value)
    if _is_body_type(annotation):
        return Body(value)
    return Query(value)


def _wire_key(name: str, marker: Param) -> str:
    if marker.alias is not None:
        return marker.alias.lower() if isinstance(marker, Header) else marker.alias
    if isinstance(marker, Header):
        return (name.replace("_", "-") if marker.convert_underscores else name).lower()
    return name


def _marker_of(  # noqa: PLR0917 - a private step of _Compiler.add
    name: str,
    parameter: inspect.Parameter,
    base: Any,
    marker: Param | None,
    path_names: Mapping[str, Converter],
    label: str,
) -> Param:
    """The marker that says where `name` comes from: given, or inferred."""
    if isinstance(parameter.default, Param):
        if marker is not None:
            raise SignatureError(f"{label}: {name!r} has a marker twice")
        marker = parameter.default
    elif marker is not None and parameter.default is not inspect.Parameter.empty:
        marker = marker.with_default(parameter.default)
    if marker is None:
        marker = _marker_for(name, base, parameter.default, path_names)
    if isinstance(marker, Path) and name not in path_names and marker.alias not in path_names:
        raise SignatureError(
            f"{label}: path parameter {name!r} is not in the route's path template"
        )
    return marker


class _Compiler:
    """Walks one signature and fills a `HandlerPlan`."""

    def __init__(self, label: str, path_names: Mapping[str, Converter]) -> None:
        self.label = label
        self.path_names = path_names
        self.plan = HandlerPlan()
        self.request_names: list[str] = []
        self.injected: list[tuple[str, Callable[[Request], Any]]] = []
        self.params: list[ParamSpec] = []
        self.body: list[ParamSpec] = []
        self.fields: dict[str, Any] = {}

    def add(self, index: int, name: str, parameter: inspect.Parameter, annotation: Any) -> None:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise SignatureError(
                f"{self.label}: positional-only parameter {name!r} is not supported"
            )
        if _is_request(name, annotation):
            self.request_names.append(name)
            if index == 0 and parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                self.plan.request_first = True
            return
        base, marker = _split_annotated(annotation)
        bare = _strip_optional(base)
        if inspect.isclass(bare) and bare in _INJECTABLES:
            self.injected.append((name, _INJECTABLES[bare]))
            return
        marker = _marker_of(name, parameter, base, marker, self.path_names, self.label)
        if base is inspect.Parameter.empty:
            base = Any
        spec = ParamSpec(
            name=name,
            field=f"p{index}",
            source=typing.cast(Source, marker.source),
            key=_wire_key(name, marker),
            annotation=base,
            marker=marker,
            is_list=_is_sequence(base),
        )
        if isinstance(marker, Body):
            self.body.append(spec)
        else:
            self.params.append(spec)
            self.fields[spec.field] = (base, marker.field_info())

    def finish(self) -> HandlerPlan:
        plan = self.plan
        plan.request_names = tuple(self.request_names)
        plan.injected = tuple(self.injected)
        plan.params = tuple(self.params)
        plan.body_params = tuple(self.body)
        plan.reads_form = any(isinstance(s.marker, Form) for s in self.params)
        if self.body:
            plan.embed_body = len(self.body) > 1 or any(
                isinstance(s.marker, Body) and s.marker.embed for s in self.body
            )
            self.fields["body__"] = _body_field(self.body, plan.embed_body, self.label)
        if self.fields:
            plan.model = _build_model(self.label, self.fields)
        return plan


def compile_plan(
    fn: Callable[..., Any],
    path_params: Mapping[str, Converter] | None = None,
    *,
    where: str = "",
) -> HandlerPlan:
    """Compile `fn`'s signature; raise `SignatureError` for one that cannot be served."""
    label = where or getattr(fn, "__qualname__", repr(fn))
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise SignatureError(f"{label}: cannot read the signature: {exc}") from exc
    compiler = _Compiler(label, dict(path_params or {}))
    for index, (name, parameter) in enumerate(signature.parameters.items()):
        compiler.add(index, name, parameter, hints.get(name, parameter.annotation))
    return compiler.finish()


def _json_of(annotation: Any) -> Any:
    return Json[annotation]  # type: ignore[misc]


def _body_field(body: list[ParamSpec], embed: bool, label: str) -> tuple[Any, Any]:
    if not embed:
        spec = body[0]
        if spec.required:
            return (_json_of(spec.annotation), ...)
        return (_json_of(spec.annotation), spec.marker.field_info())
    inner_fields = {s.field: (s.annotation, s.marker.field_info(alias=s.key)) for s in body}
    inner = _build_model(f"{label}.body", inner_fields)
    if any(s.required for s in body):
        return (_json_of(inner), ...)
    return (_json_of(inner), pydantic.Field(None))


def _build_model(label: str, fields: dict[str, Any]) -> type[BaseModel]:
    name = "".join(ch if ch.isalnum() else "_" for ch in label) + "_Params"
    try:
        model: type[BaseModel] = create_model(name, **fields)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise SignatureError(f"{label}: an annotation cannot be validated: {exc}") from exc
    return model
