"""Compiling a handler's signature, once, into a `HandlerPlan`.

The plan knows where each argument comes from (the request itself, the path, the query
string, headers, cookies, the JSON body, a form) and holds ONE pydantic model that
validates all of them in a single call per request. Errors come back in FastAPI's shape,
with `loc` starting at the source (`["query", "n"]`, `["body", "items", 0, "qty"]`; form
fields and files are in the body, as in FastAPI: `["body", "file"]`).

Inference for an argument without a marker (FastAPI's rules):

| argument                                         | comes from                       |
|--------------------------------------------------|----------------------------------|
| named `request` (no annotation), or a `Request`  | the request itself               |
| a type registered with `register_injectable`     | `factory(request)`               |
| a name in the path template                      | the path                         |
| `UploadFile` (or a list / Optional of it)        | a multipart file                 |
| a model, dataclass, dict, or a sequence of these | the JSON body                    |
| anything else (scalars, lists of scalars)        | the query string (lists: repeats)|

Bodies that cannot be read are refused before validation, with a clear `detail`:
a Content-Type present and not JSON (`application/json`, `application/*+json`) is a 415;
a body that is not UTF-8 is a 400. Malformed JSON is a 422 `json_invalid` at `["body"]`,
as in FastAPI (pydantic-core parses and validates in the same call, so the parse error is
one more validation error). A form handler refuses a body that is not a form with a 415
and a malformed multipart body with a 400 (`ambi.http.parse_form`).

Nothing here runs per request except `HandlerPlan.extract`, which calls one getter per
argument (chosen at compile time) and the model's validator once.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import operator
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    Json,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic_core import PydanticCustomError, PydanticUndefined

from ..exceptions import HTTPException, RequestValidationError, SignatureError
from ..http import FormData, Request, UploadFile
from ..params import (
    BodyParam,
    FileParam,
    FormParam,
    HeaderParam,
    Param,
    PathParam,
    QueryParam,
)
from ..routing import Converter

Source = Literal["path", "query", "header", "cookie", "body", "form", "file"]
Getter = Callable[[Request], Any]

#: Types injected by ambi rather than read from the request: type -> factory(request).
#: Later features (BackgroundTasks, ...) register theirs with `register_injectable`.
_INJECTABLES: dict[type, Callable[[Request], Any]] = {}

#: The model field holding the body (a name no handler argument can take).
BODY_FIELD = "body__"
MISSING: Any = PydanticUndefined
_EMPTY_FORM = FormData()


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
    annotation: Any  # the type validated (UploadFile replaced by its validator)
    marker: Param
    is_list: bool = False

    @property
    def required(self) -> bool:
        return self.marker.required

    @property
    def loc(self) -> str:
        """The first element of this argument's error `loc`."""
        return "body" if self.source in ("form", "file") else self.source


class HandlerPlan:
    """Where every argument of one handler comes from, and the validator for them all."""

    __slots__ = (
        "_embedded",
        "_getters",
        "_locs",
        "_outputs",
        "body_model",
        "body_params",
        "embed_body",
        "injected",
        "model",
        "params",
        "reads_form",
        "request_first",
        "request_names",
    )

    def __init__(
        self,
        *,
        request_names: tuple[str, ...] = (),
        injected: tuple[tuple[str, Callable[[Request], Any]], ...] = (),
        params: tuple[ParamSpec, ...] = (),
        body_params: tuple[ParamSpec, ...] = (),
        embed_body: bool = False,
        body_model: type[BaseModel] | None = None,
        model: type[BaseModel] | None = None,
        request_first: bool = False,
        path_types: Mapping[str, Converter] | None = None,
    ) -> None:
        self.request_names = request_names
        self.injected = injected
        self.params = params
        self.body_params = body_params
        self.embed_body = embed_body
        self.body_model = body_model  # the embedded body's model, for OpenAPI
        self.model = model
        self.reads_form = any(s.source in ("form", "file") for s in params)
        self.request_first = request_first  # the request is the first positional parameter
        types_ = path_types or {}
        self._getters = tuple((s.field, _getter(s, types_.get(s.key))) for s in params)
        self._outputs = tuple((s.name, s.field) for s in params)
        self._embedded = tuple((s.name, s.field) for s in body_params) if embed_body else ()
        self._locs = {s.field: (s.loc, s.key) for s in params}

    @property
    def only_request(self) -> bool:
        """Nothing to extract: the handler takes no argument, or only the request first."""
        if self.model is not None or self.injected:
            return False
        return not self.request_names or (len(self.request_names) == 1 and self.request_first)

    @property
    def has_input(self) -> bool:
        """Whether the plan validates anything (so a 422 is possible)."""
        return self.model is not None

    def extract(self, request: Request) -> dict[str, Any]:
        """The handler's keyword arguments for `request`.

        Raises `RequestValidationError` (422) for invalid input and `HTTPException` for a
        body that cannot be read (415 wrong content type, 400 not UTF-8).
        """
        kwargs: dict[str, Any] = {name: request for name in self.request_names}
        for name, factory in self.injected:
            kwargs[name] = factory(request)
        model = self.model
        if model is None:
            return kwargs
        raw: dict[str, Any] = {}
        for field, get in self._getters:
            value = get(request)
            if value is not MISSING:
                raw[field] = value
        if self.body_params:
            body = self._body(request)
            if body is not MISSING:
                raw[BODY_FIELD] = body
        try:
            values = model.__pydantic_validator__.validate_python(raw).__dict__
        except ValidationError as exc:
            raise self._invalid(request, exc) from None
        for name, field in self._outputs:
            kwargs[name] = values[field]
        if self.body_params:
            body = values[BODY_FIELD]
            if self.embed_body:
                for name, field in self._embedded:
                    kwargs[name] = getattr(body, field)
            else:
                kwargs[self.body_params[0].name] = body
        return kwargs

    def _body(self, request: Request) -> Any:
        body = request.body
        if not body:
            # An embedded body is an object whose fields may all have defaults.
            return b"{}" if self.embed_body else MISSING
        content_type = request.headers.get("content-type")
        if content_type is not None and not is_json_media(content_type):
            raise HTTPException(
                415,
                f"expected a JSON body (Content-Type: application/json), got {content_type!r}",
            )
        # pydantic-core's `Json` decodes the bytes and validates in the same call.
        return body

    def _invalid(self, request: Request, exc: ValidationError) -> HTTPException:
        errors = exc.errors(include_url=False)
        if self.body_params and any(
            e["type"] == "json_invalid" and e["loc"] == (BODY_FIELD,) for e in errors
        ):
            try:
                request.body.decode("utf-8")
            except UnicodeDecodeError as decode_error:
                return HTTPException(400, f"request body is not valid UTF-8: {decode_error}")
        return RequestValidationError([self._error(e) for e in errors])

    def _error(self, error: Any) -> dict[str, Any]:
        loc: list[Any] = list(error["loc"])
        head = loc[0] if loc else None
        # A missing argument's "input" would be the plan's internal dict.
        hide_input = len(loc) == 1 and error["type"] == "missing"
        if head == BODY_FIELD:
            loc[0] = "body"
        elif head in self._locs:
            loc[0:1] = self._locs[head]
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": loc,
            "msg": error["msg"],
            "input": None if hide_input else _jsonable(error["input"]),
        }
        ctx = error.get("ctx")
        if ctx:
            item["ctx"] = {k: _jsonable(v) for k, v in ctx.items()}
        return item


def is_json_media(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (`application/json`, `...+json`)."""
    # PERF: the usual exact header is answered without parsing.
    if content_type == "application/json":
        return True
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _jsonable(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """An error's `input` / `ctx` value made JSON-safe (bytes decoded, objects as text)."""
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return _jsonable(value.model_dump(mode="json"))
    if value is PydanticUndefined:
        return None
    return str(value)


# Getters: one per argument, chosen at compile time -----------------------------------------


def _getter(spec: ParamSpec, converter: Converter | None) -> Getter:
    key = spec.key
    if spec.source == "path":
        # A `{id:int}` segment declared `id: str` gets the text back (pydantic is strict
        # about int -> str).
        stringify = (
            converter is not None
            and converter.python_type is not str
            and _strip_optional(spec.annotation) is str
        )
        return _path_getter(key, stringify)
    if spec.source == "query":
        return _multi_getter(key, spec.is_list, "query_params")
    if spec.source == "header":
        return _multi_getter(key.lower(), spec.is_list, "headers")  # stored lower-cased
    if spec.source == "cookie":
        return _cookie_getter(key)
    return _form_getter(spec)


def _path_getter(key: str, stringify: bool) -> Getter:
    if stringify:

        def get_text(request: Request) -> Any:
            value = request.path_params.get(key, MISSING)
            return value if value is MISSING else str(value)

        return get_text

    def get(request: Request) -> Any:
        return request.path_params.get(key, MISSING)

    return get


def _multi_getter(key: str, is_list: bool, attribute: str) -> Getter:
    source = operator.attrgetter(attribute)  # request.query_params / request.headers
    if is_list:

        def get_list(request: Request) -> Any:
            return source(request).getlist(key) or MISSING

        return get_list

    def get(request: Request) -> Any:
        return source(request).get(key, MISSING)

    return get


def _cookie_getter(key: str) -> Getter:
    def get(request: Request) -> Any:
        return request.cookies.get(key, MISSING)

    return get


def _form_of(request: Request) -> FormData:
    if not request.body and "content-type" not in request.headers:
        return _EMPTY_FORM
    return request.form()


def _check_size(value: Any, key: str, max_size: int | None) -> None:
    if max_size is not None and isinstance(value, UploadFile) and value.size > max_size:
        raise HTTPException(413, f"file {key!r} is larger than {max_size} bytes")


def _form_getter(spec: ParamSpec) -> Getter:
    key = spec.key
    optional = not spec.required
    max_size = spec.marker.max_size if isinstance(spec.marker, FileParam) else None
    if spec.is_list:

        def get_list(request: Request) -> Any:
            values = _form_of(request).getlist(key)
            for value in values:
                _check_size(value, key, max_size)
            return values or MISSING

        return get_list

    def get(request: Request) -> Any:
        value = _form_of(request).get(key, MISSING)
        if optional and value == "":
            return MISSING  # an empty optional form field takes its default (as FastAPI)
        _check_size(value, key, max_size)
        return value

    return get


# Uploaded files in the validator ----------------------------------------------------------


def _upload(value: Any) -> UploadFile:
    if isinstance(value, UploadFile):
        return value
    raise PydanticCustomError("upload_file", "Expected an uploaded file")


def _upload_bytes(value: Any) -> Any:
    if isinstance(value, UploadFile):
        value.file.seek(0)
        return value.file.read()
    return value


_BINARY_SCHEMA = {"type": "string", "format": "binary"}
UploadFileType = Annotated[UploadFile, PlainValidator(_upload), WithJsonSchema(_BINARY_SCHEMA)]
UploadBytesType = Annotated[bytes, BeforeValidator(_upload_bytes), WithJsonSchema(_BINARY_SCHEMA)]


def _replace(annotation: Any, old: Any, new: Any) -> Any:
    """`annotation` with `old` replaced by `new` inside Optional / Union / list / set."""
    if annotation is old:
        return new
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_replace(a, old, new) for a in get_args(annotation))]  # noqa: UP007
    if origin in (list, set, frozenset, Sequence) and get_args(annotation):
        return origin[_replace(get_args(annotation)[0], old, new)]
    return annotation


def _mentions(annotation: Any, cls: type) -> bool:
    if annotation is cls:
        return True
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, set, frozenset, Sequence):
        return any(_mentions(a, cls) for a in get_args(annotation))
    return False


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
    bare = _strip_optional(annotation)
    if bare in (list, set, frozenset, tuple):
        return True
    return get_origin(bare) in (list, set, frozenset, tuple, Sequence)


def _is_model_like(annotation: Any) -> bool:
    bare = _strip_optional(annotation)
    return inspect.isclass(bare) and (issubclass(bare, BaseModel) or dataclasses.is_dataclass(bare))


def _is_body_type(annotation: Any) -> bool:
    """FastAPI's rule: models, dataclasses, dicts and sequences of them are the body."""
    bare = _strip_optional(annotation)
    origin = get_origin(bare) or bare
    if _is_model_like(bare) or origin in (dict, Mapping):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_body_type(a) for a in get_args(bare))
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


def _split_annotated(annotation: Any, label: str) -> tuple[Any, Param | None]:
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        markers = [e for e in extras if isinstance(e, Param)]
        if len(markers) > 1:
            raise SignatureError(f"{label}: more than one parameter marker in {annotation!r}")
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
        return PathParam(value)
    if _mentions(_strip_optional(annotation), UploadFile):
        return FileParam(value)
    if _is_body_type(annotation):
        return BodyParam(value)
    return QueryParam(value)


def _wire_key(name: str, marker: Param) -> str:
    """The name on the wire, as declared (headers are matched case-insensitively by
    `Headers`, and keep their declared spelling in errors and in OpenAPI)."""
    if marker.alias is not None:
        return marker.alias
    if isinstance(marker, HeaderParam) and marker.convert_underscores:
        return name.replace("_", "-")
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
    if isinstance(marker, PathParam):
        if (marker.alias or name) not in path_names:
            raise SignatureError(
                f"{label}: path parameter {marker.alias or name!r} is not in the route's "
                f"path template (it has: {', '.join(path_names) or 'no parameters'})"
            )
    elif name in path_names and marker.alias is None:
        raise SignatureError(
            f"{label}: {name!r} is in the path template but declared "
            f"{type(marker).__name__.removesuffix('Param')}(); use Path() or rename it"
        )
    return marker


def _validated_type(base: Any, marker: Param) -> Any:
    """The type the validator checks: files become upload validators."""
    if isinstance(marker, FormParam):
        if _mentions(base, UploadFile):
            return _replace(base, UploadFile, UploadFileType)
        if isinstance(marker, FileParam) and _mentions(base, bytes):
            return _replace(base, bytes, UploadBytesType)
    return base


class _Compiler:
    """Walks one signature and fills a `HandlerPlan`."""

    def __init__(self, label: str, path_names: Mapping[str, Converter]) -> None:
        self.label = label
        self.path_names = path_names
        self.request_first = False
        self.request_names: list[str] = []
        self.injected: list[tuple[str, Callable[[Request], Any]]] = []
        self.params: list[ParamSpec] = []
        self.body: list[ParamSpec] = []
        self.fields: dict[str, Any] = {}
        self.keys: dict[tuple[str, str], str] = {}

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
                self.request_first = True
            return
        base, marker = _split_annotated(annotation, self.label)
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
            annotation=_validated_type(base, marker),
            marker=marker,
            is_list=_is_sequence(base),
        )
        where = "body" if spec.loc == "body" else spec.source
        other = self.keys.setdefault((where, spec.key.lower()), name)
        if other != name:
            raise SignatureError(
                f"{self.label}: {other!r} and {name!r} both read {where} key {spec.key!r}"
            )
        if isinstance(marker, BodyParam):
            self.body.append(spec)
        else:
            self.params.append(spec)
            self.fields[spec.field] = (spec.annotation, marker.field_info())

    def finish(self) -> HandlerPlan:
        embed = False
        body_model: type[BaseModel] | None = None
        if self.body:
            if any(s.loc == "body" for s in self.params):
                raise SignatureError(
                    f"{self.label}: a handler cannot take both a JSON body "
                    f"({', '.join(s.name for s in self.body)}) and form fields"
                )
            embed = len(self.body) > 1 or any(
                isinstance(s.marker, BodyParam) and s.marker.embed for s in self.body
            )
            field, body_model = _body_field(self.body, embed, self.label)
            self.fields[BODY_FIELD] = field
        return HandlerPlan(
            request_names=tuple(self.request_names),
            injected=tuple(self.injected),
            params=tuple(self.params),
            body_params=tuple(self.body),
            embed_body=embed,
            body_model=body_model,
            model=_build_model(self.label, self.fields) if self.fields else None,
            request_first=self.request_first,
            path_types=self.path_names,
        )


def _hints_target(fn: Callable[..., Any]) -> Any:
    """The object whose annotations describe `fn` (a partial's function, an instance's
    `__call__`)."""
    if isinstance(fn, functools.partial):
        return _hints_target(fn.func)
    if inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.isbuiltin(fn):
        return fn
    if not inspect.isclass(fn) and callable(fn):
        return type(fn).__call__
    return fn


def type_hints(fn: Callable[..., Any], label: str) -> dict[str, Any]:
    """`fn`'s resolved annotations (with `Annotated` extras); `SignatureError` if they
    cannot be resolved."""
    try:
        return typing.get_type_hints(_hints_target(fn), include_extras=True)
    except (TypeError, NameError, AttributeError) as exc:
        raise SignatureError(f"{label}: cannot resolve the annotations: {exc}") from exc


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
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"{label}: cannot read the signature: {exc}") from exc
    hints = type_hints(fn, label)
    compiler = _Compiler(label, dict(path_params or {}))
    for index, (name, parameter) in enumerate(signature.parameters.items()):
        compiler.add(index, name, parameter, hints.get(name, parameter.annotation))
    return compiler.finish()


def _title(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").title()


def _json_of(annotation: Any) -> Any:
    return Json[annotation]  # type: ignore[misc]


def _body_field(
    body: list[ParamSpec], embed: bool, label: str
) -> tuple[tuple[Any, Any], type[BaseModel] | None]:
    if not embed:
        spec = body[0]
        if spec.required:
            return (_json_of(spec.annotation), ...), None
        return (_json_of(spec.annotation), spec.marker.field_info()), None
    inner_fields = {
        s.field: (s.annotation, s.marker.field_info(alias=s.key, title=_title(s.key))) for s in body
    }
    inner = _build_model(f"Body {label}", inner_fields, suffix="")
    # An absent embedded body is read as `{}` so that each field reports itself missing.
    return (_json_of(inner), ...), inner


def _build_model(label: str, fields: dict[str, Any], suffix: str = "_Params") -> type[BaseModel]:
    name = "".join(ch if ch.isalnum() else "_" for ch in label).strip("_") + suffix
    try:
        model: type[BaseModel] = create_model(name, **fields)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise SignatureError(f"{label}: an annotation cannot be validated: {exc}") from exc
    return model


__all__ = [
    "BODY_FIELD",
    "HandlerPlan",
    "ParamSpec",
    "UploadFileType",
    "compile_plan",
    "is_json_media",
    "register_injectable",
    "type_hints",
]
