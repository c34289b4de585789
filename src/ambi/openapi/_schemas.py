"""Pieces of the OpenAPI document that do not depend on a route: the error schemas, the
schema generator, titles, documented inputs, and FastAPI's conventions for naming and
cleaning schemas (so a client generated from a FastAPI app's document keeps working).
"""

from __future__ import annotations

import copy
import dataclasses
import http.client
import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaWarningKind

from .._signature import ParamSpec
from .._signature._sources import model_keys

logger = logging.getLogger("ambi.openapi")

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
#: The methods FastAPI documents a request body for.
METHODS_WITH_BODY = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})

#: FastAPI's schemas for the 422 body, so clients written for FastAPI read ambi's too.
VALIDATION_ERROR_SCHEMAS: dict[str, Any] = {
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "input": {"title": "Input"},
            "ctx": {"title": "Context", "type": "object"},
        },
        "required": ["loc", "msg", "type"],
    },
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": "#/components/schemas/ValidationError"},
            }
        },
    },
}

#: What `HTTPException` sends: `{"detail": ...}`.
HTTP_ERROR_SCHEMA: dict[str, Any] = {
    "title": "HTTPError",
    "type": "object",
    "properties": {"detail": {"title": "Detail"}},
    "required": ["detail"],
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}},
    }


#: A route that reads a body also answers these before validating anything (ambi
#: documents them; FastAPI has no 415).
BODY_ERROR_RESPONSES = {
    "400": _error_response("Bad Request: the body cannot be read (not UTF-8, malformed form)"),
    "415": _error_response("Unsupported Media Type: the body is not of the declared type"),
}

VALIDATION_RESPONSE = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}

#: FastAPI's descriptions for the status ranges of `responses=`.
_STATUS_RANGES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}

_NON_WORD = re.compile(r"\W")


class SchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with its warnings (e.g. a default that is not JSON) logged
    instead of raised: a documentation nit must not break serving the document."""

    def emit_warning(self, kind: JsonSchemaWarningKind, detail: str) -> None:
        logger.debug("OpenAPI schema: %s (%s)", detail, kind)


def title(key: str) -> str:
    """pydantic's (and so FastAPI's) title for a field: `x_token` -> `X Token`,
    `x-token` -> `X-Token`."""
    return key.title().replace("_", " ").strip()


def default_unique_id(name: str, path_format: str, method: str) -> str:
    """FastAPI's `generate_unique_id`: `<name><path>_<method>` with non-word characters
    made `_`."""
    return f"{_NON_WORD.sub('_', name + path_format)}_{method.lower()}"


def status_description(status: str) -> str | None:
    """The text FastAPI gives a status key of `responses=` without a description."""
    known = _STATUS_RANGES.get(status.upper())
    if known is not None:
        return known
    return http.client.responses.get(int(status)) if status.isdigit() else None


def deep_update(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Merge `update` into `target`: dicts merged key by key, lists extended, other values
    replaced (FastAPI's `deep_dict_update`, for `responses=` and `openapi_extra=`)."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            deep_update(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            target[key] = current + value
        else:
            target[key] = copy.deepcopy(value)


#: Keys whose values are data, not schemas: a `null` inside them is kept.
_DATA_KEYS = frozenset({"default", "example", "examples", "enum", "const", "x-examples"})


def without_nulls(value: Any) -> Any:
    """`value` with every `null`-valued key dropped from its objects (FastAPI serialises
    its document with `exclude_none`: no `"default": null`), keeping data values as they
    are."""
    if isinstance(value, dict):
        return {
            key: item if key in _DATA_KEYS else without_nulls(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _adapter(spec: ParamSpec, field_title: str | None) -> TypeAdapter[Any]:
    """`spec`'s type with its constraints and documentation, for a JSON Schema."""
    field = spec.marker.field_info(title=field_title)
    # `deprecated` belongs to the OpenAPI parameter, and pydantic warns about it outside
    # a model field.
    field.deprecated = None
    annotated: Any = Annotated[spec.annotation, field]
    return TypeAdapter(annotated)


def body_adapter(spec: ParamSpec) -> TypeAdapter[Any]:
    """The schema source of a single (not embedded) body argument: titled by its name,
    as FastAPI titles it (a model's `$ref` carries no title)."""
    return _adapter(spec, title(spec.name))


@dataclasses.dataclass(frozen=True, slots=True)
class Input:
    """One parameter as documented: a plain argument, or one field of a parameter model."""

    key: str  # the name on the wire
    field: str  # the schema key within the route
    required: bool
    description: str | None
    deprecated: bool
    examples: Any  # FastAPI's openapi_examples
    adapter: TypeAdapter[Any]


def inputs(spec: ParamSpec) -> list[Input]:
    """What `spec` reads, as documented parameters (a parameter model gives one each)."""
    if not spec.is_model:
        marker = spec.marker
        adapter = _adapter(spec, title(spec.key))
        return [
            Input(
                spec.key,
                spec.field,
                spec.required,
                marker.description,
                bool(marker.deprecated),
                marker.openapi_examples,
                adapter,
            )
        ]
    model: type[BaseModel] = spec.annotation
    found = []
    for (_, wire, _), (name, info) in zip(
        model_keys(model, spec.marker), model.model_fields.items(), strict=True
    ):
        field = copy.copy(info)
        field.deprecated = None
        annotated: Any = Annotated[info.annotation, field]
        found.append(
            Input(
                wire,
                f"{spec.field}.{name}",
                info.is_required(),
                info.description,
                bool(info.deprecated),
                None,
                TypeAdapter(annotated),
            )
        )
    return found
