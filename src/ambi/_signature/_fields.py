"""How one argument of a handler or dependency becomes a field of the route's model: its
marker (declared or inferred), its name on the wire, the type validated, the JSON body."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, Json, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

from ..exceptions import SignatureError
from ..http import UploadFile
from ..params import (
    BodyParam,
    DependsParam,
    FileParam,
    FormParam,
    HeaderParam,
    Param,
    PathParam,
    QueryParam,
)
from ._annotations import is_body_type, mentions, replace, strip_optional
from ._plan import ParamSpec
from ._sources import UploadBytesType, UploadFileType

#: What an argument may be marked with: a parameter source, or a dependency.
Marker = Param | DependsParam


def split_annotated(annotation: Any, label: str) -> tuple[Any, Marker | None]:
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        markers = [e for e in extras if isinstance(e, Param | DependsParam)]
        if len(markers) > 1:
            raise SignatureError(f"{label}: more than one parameter marker in {annotation!r}")
        rest = [e for e in extras if not isinstance(e, Param | DependsParam)]
        if rest:
            base = Annotated[(base, *rest)]  # keep constraints such as Field(ge=1)
        return base, (markers[0] if markers else None)
    return annotation, None


def inferred(name: str, annotation: Any, default: Any, path_names: Mapping[str, Any]) -> Param:
    """The marker for an unmarked argument (FastAPI's inference rules)."""
    value = ... if default is inspect.Parameter.empty else default
    if name in path_names:
        return PathParam(value)
    if mentions(strip_optional(annotation), UploadFile):
        return FileParam(value)
    if is_body_type(annotation):
        return BodyParam(value)
    return QueryParam(value)


def wire_key(name: str, marker: Param) -> str:
    """The name on the wire, as declared (headers are matched case-insensitively by
    `Headers`, and keep their declared spelling in errors and in OpenAPI)."""
    if marker.alias is not None:
        return marker.alias
    if isinstance(marker, HeaderParam) and marker.convert_underscores:
        return name.replace("_", "-")
    return name


def validated_type(base: Any, marker: Param) -> Any:
    """The type the validator checks: files become upload validators."""
    if isinstance(marker, FormParam):
        if mentions(base, UploadFile):
            return replace(base, UploadFile, UploadFileType)
        if isinstance(marker, FileParam) and mentions(base, bytes):
            return replace(base, bytes, UploadBytesType)
    return base


def _title(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").title()


def _json_of(annotation: Any) -> Any:
    return Json[annotation]  # type: ignore[misc]


def body_field(
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
    inner = build_model(f"Body {label}", inner_fields, suffix="")
    # An absent embedded body is read as `{}` so that each field reports itself missing.
    return (_json_of(inner), ...), inner


def build_model(label: str, fields: dict[str, Any], suffix: str = "_Params") -> type[BaseModel]:
    name = "".join(ch if ch.isalnum() else "_" for ch in label).strip("_") + suffix
    try:
        model: type[BaseModel] = create_model(name, **fields)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise SignatureError(f"{label}: an annotation cannot be validated: {exc}") from exc
    return model
