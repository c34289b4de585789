"""Reading raw values from a request: one getter per argument, chosen at compile time.

A getter returns the raw value for the plan's validator, or `MISSING` so that the field's
default applies (or pydantic reports it missing). Uploaded files enter the validator as
`UploadFile` objects, checked by the types defined here.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError, PydanticUndefined

from ..http import FormData, Request, UploadFile
from ..params import HeaderParam, Param
from ..routing import Converter
from ._annotations import is_sequence, mentions, strip_optional

Getter = Callable[[Request], Any]

#: The model field holding the body (a name no handler argument can take).
BODY_FIELD = "body__"
MISSING: Any = PydanticUndefined
_EMPTY_FORM = FormData()
#: What the simple getters read, `(source, key)`: `_gather` writes their reads inline.
_READS: weakref.WeakKeyDictionary[Getter, tuple[str, str]] = weakref.WeakKeyDictionary()


def inline_read(get: Getter) -> tuple[str, str] | None:
    """`("path" | "query" | "header", key)` for a getter whose read can be written inline
    (the same read: `_gather`), else None."""
    return _READS.get(get)


def is_json_media(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (`application/json`, `...+json`)."""
    # PERF: the usual exact header is answered without parsing.
    if content_type == "application/json":
        return True
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def scalar_getter(
    source: str, key: str, annotation: Any, marker: Param, converter: Converter | None
) -> Getter:
    """The getter of one argument read from `source` under `key`."""
    is_list = is_sequence(annotation)
    if source == "path":
        # A `{id:int}` segment declared `id: str` gets the text back (pydantic is strict
        # about int -> str).
        stringify = (
            converter is not None
            and converter.python_type is not str
            and strip_optional(annotation) is str
        )
        return _path_getter(key, stringify)
    if source == "query":
        return _multi_getter(key, is_list, "query_params") if is_list else _query_getter(key)
    if source == "header":
        if not is_list:
            return _header_getter(key.lower())  # stored lower-cased
        return _multi_getter(key.lower(), is_list, "headers")
    if source == "cookie":
        return _cookie_getter(key)
    return _form_getter(key, is_list, not marker.required)


def _path_getter(key: str, stringify: bool) -> Getter:
    if stringify:

        def get_text(request: Request) -> Any:
            value = request.path_params.get(key, MISSING)
            return value if value is MISSING else str(value)

        return get_text

    def get(request: Request) -> Any:
        return request.path_params.get(key, MISSING)

    _READS[get] = ("path", key)
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


def _query_getter(key: str) -> Getter:
    # PERF: the parsed query's dict read directly once parsed, not through the property
    # and `QueryParams.get` (two calls a parameter; bench_instructions "GET /items").
    def get(request: Request) -> Any:
        query = request._query
        if query is None:
            query = request.query_params
        return query._dict.get(key, MISSING)

    _READS[get] = ("query", key)
    return get


def _header_getter(key: str) -> Getter:
    # PERF: `request._header` reads the dict of the pairs (no index built) and answers as
    # `request.headers.get` does (bench_instructions "GET /deps").
    def get(request: Request) -> Any:
        value = request._header(key)
        return MISSING if value is None else value

    _READS[get] = ("header", key)
    return get


def _cookie_getter(key: str) -> Getter:
    def get(request: Request) -> Any:
        return request.cookies.get(key, MISSING)

    return get


def form_of(request: Request) -> FormData:
    if not request._body and "content-type" not in request.headers:
        return _EMPTY_FORM
    return request.form()


def _form_getter(key: str, is_list: bool, optional: bool) -> Getter:
    """A form field or file (`File(max_size=)` is enforced while the form is read)."""
    if is_list:

        def get_list(request: Request) -> Any:
            values = form_of(request).getlist(key)
            return values or MISSING

        return get_list

    def get(request: Request) -> Any:
        value = form_of(request).get(key, MISSING)
        if optional and value == "":
            return MISSING  # an empty optional form field takes its default (as FastAPI)
        return value

    return get


# Parameter models: every field of a model from one source (FastAPI 0.115) -----------------


def model_keys(model: type[BaseModel], marker: Param) -> list[tuple[str, str, bool]]:
    """`(field key in the model, name on the wire, is a list)` for each field of `model`."""
    underscores = isinstance(marker, HeaderParam) and marker.convert_underscores
    keys = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        wire = key.replace("_", "-") if underscores and field.alias is None else key
        keys.append((key, wire, is_sequence(field.annotation)))
    return keys


_SOURCE_READERS: dict[str, Callable[[Request], Any]] = {
    "query": operator.attrgetter("query_params"),
    "header": operator.attrgetter("headers"),
    "cookie": operator.attrgetter("cookies"),
    "form": form_of,
}


def model_getter(source: str, model: type[BaseModel], marker: Param) -> Getter:
    """A getter gathering every field of `model` from `source` into one dict.

    When the model forbids extra fields, every other key of the source is passed along
    too, so that pydantic names the unexpected ones.
    """
    keys = model_keys(model, marker)
    forbid = model.model_config.get("extra") == "forbid"
    known = {wire.lower() if source == "header" else wire for _, wire, _ in keys}
    read = _SOURCE_READERS[source]

    def get(request: Request) -> Any:
        values = read(request)
        data: dict[str, Any] = {}
        for key, wire, is_list in keys:
            if is_list and hasattr(values, "getlist"):
                found = values.getlist(wire)
                if found:
                    data[key] = found
            elif wire in values:
                data[key] = values[wire]
        if forbid:
            for wire in values:
                if wire not in known:
                    data[wire] = values[wire]
        return data

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


#: OpenAPI 3.1's way of saying "a file" (what FastAPI documents uploads as).
_BINARY_SCHEMA = {"type": "string", "contentMediaType": "application/octet-stream"}
UploadFileType = Annotated[UploadFile, PlainValidator(_upload), WithJsonSchema(_BINARY_SCHEMA)]
UploadBytesType = Annotated[bytes, BeforeValidator(_upload_bytes), WithJsonSchema(_BINARY_SCHEMA)]


def reads_as_bytes(annotation: Any) -> bool:
    """Whether a file argument is validated as `bytes` (its upload is read whole, so it is
    kept in memory rather than spooled to disk, and never read from disk on the loop)."""
    return mentions(annotation, UploadBytesType)
