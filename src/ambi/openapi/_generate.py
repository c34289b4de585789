"""The OpenAPI 3.1 document, generated from the routes' compiled plans.

Every schema comes from the same pydantic types the plans validate with: one
`TypeAdapter.json_schemas` call for the whole app, so models used by several routes land
once in `components/schemas` (named as pydantic names them, `$ref`s to
`#/components/schemas/<Model>`).

Security: every security scheme among a route's dependencies (`ambi.security`) lands in
`components/securitySchemes` under its `scheme_name`, and in the operation's `security`
with the scopes accumulated on the way to it (merged per scheme, as FastAPI does); an
app-wide verifier (`enable_jwt`) adds its own through `security=`.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaWarningKind

from .._signature import HandlerPlan, ParamSpec
from .._signature._sources import model_keys
from ..security._base import SecurityBase

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute

__all__ = ["HTTP_ERROR_SCHEMA", "REF_TEMPLATE", "VALIDATION_ERROR_SCHEMAS", "build_openapi"]

logger = logging.getLogger("ambi.openapi")

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"

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


#: A route that reads a body also answers these before validating anything.
_BODY_ERROR_RESPONSES = {
    "400": _error_response("Bad Request: the body cannot be read (not UTF-8, malformed form)"),
    "415": _error_response("Unsupported Media Type: the body is not of the declared type"),
}

_VALIDATION_RESPONSE = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}

_CONVERTER_SUFFIX = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}")
_NON_WORD = re.compile(r"\W")


class _SchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with its warnings (e.g. a default that is not JSON) logged
    instead of raised: a documentation nit must not break serving the document."""

    def emit_warning(self, kind: JsonSchemaWarningKind, detail: str) -> None:
        logger.debug("OpenAPI schema: %s (%s)", detail, kind)


def _title(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").title()


def openapi_path(path: str) -> str:
    """`/files/{p:path}` -> `/files/{p}`."""
    return _CONVERTER_SUFFIX.sub(r"{\1}", path)


def _adapter(spec: ParamSpec, title: str | None) -> TypeAdapter[Any]:
    """`spec`'s type with its constraints and documentation, for a JSON Schema."""
    field = spec.marker.field_info(title=title)
    # `deprecated` belongs to the OpenAPI parameter, and pydantic warns about it outside
    # a model field.
    field.deprecated = None
    annotated: Any = Annotated[spec.annotation, field]
    return TypeAdapter(annotated)


@dataclasses.dataclass(frozen=True, slots=True)
class _Input:
    """One parameter as documented: a plain argument, or one field of a parameter model."""

    key: str  # the name on the wire
    field: str  # the schema key within the route
    required: bool
    description: str | None
    deprecated: bool
    adapter: TypeAdapter[Any]


def _inputs(spec: ParamSpec) -> list[_Input]:
    """What `spec` reads, as documented parameters (a parameter model gives one each)."""
    if not spec.is_model:
        adapter = _adapter(spec, _title(spec.key))
        marker = spec.marker
        return [
            _Input(
                spec.key,
                spec.field,
                spec.required,
                marker.description,
                bool(marker.deprecated),
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
            _Input(
                wire,
                f"{spec.field}.{name}",
                info.is_required(),
                info.description,
                bool(info.deprecated),
                TypeAdapter(annotated),
            )
        )
    return found


def _body_adapter(plan: HandlerPlan) -> TypeAdapter[Any]:
    if plan.embed_body and plan.body_model is not None:
        return TypeAdapter(plan.body_model)
    return _adapter(plan.body_params[0], None)


def _converter_schema(route: CompiledRoute, name: str) -> dict[str, Any]:
    converter = route.template.param_types().get(name)
    return dict(converter.openapi) if converter is not None else {"type": "string"}


def _summary_and_description(route: CompiledRoute) -> tuple[str, str | None]:
    """From the route options, else from the docstring: its first line is the summary, the
    rest (up to a form feed, as in FastAPI) the description. No docstring: the name."""
    options = route.definition.options
    doc = inspect.getdoc(route.definition.endpoint) or ""
    first, _, rest = doc.split("\f")[0].strip().partition("\n")
    summary = options.get("summary") or first.strip() or _title(route.definition.name)
    description = options["description"] if "description" in options else rest.strip()
    return summary, description or None


SchemaKey = tuple[int, str, str]  # (route index, "param" / "body" / "response", field)
Requirements = list[dict[str, list[str]]]
#: An app-wide feature's part: route -> (security schemes by name, requirements).
SecurityFor = Callable[["CompiledRoute"], tuple[dict[str, Any], Requirements]]


def route_security(route: CompiledRoute) -> tuple[dict[str, Any], Requirements]:
    """The security schemes among `route`'s dependencies, and its requirements: one per
    scheme, with the scopes it was reached with."""
    schemes: dict[str, Any] = {}
    scopes: dict[str, list[str]] = {}
    for call in route.plan.dependencies:
        scheme = call.fn
        if isinstance(scheme, SecurityBase):
            schemes[scheme.scheme_name] = scheme.model
            merged = scopes.setdefault(scheme.scheme_name, [])
            merged.extend(s for s in call.scopes if s not in merged)
    return schemes, [{name: names} for name, names in scopes.items()]


class _Builder:
    """Builds the `paths` of the document: first every type is collected, then pydantic
    gives all schemas in one call, then each operation is put together."""

    def __init__(
        self, routes: Sequence[CompiledRoute], security: SecurityFor | None = None
    ) -> None:
        self.routes = routes
        self.security = security
        self.security_schemes: dict[str, Any] = {}
        self.inputs: list[tuple[SchemaKey, JsonSchemaMode, TypeAdapter[Any]]] = []
        self.schemas: dict[tuple[SchemaKey, JsonSchemaMode], Any] = {}
        self.definitions: dict[str, Any] = {}
        self.operation_ids: set[str] = set()

    # Schemas ------------------------------------------------------------------------------

    def collect(self) -> None:
        for index, route in enumerate(self.routes):
            plan = route.plan
            for spec in plan.params:
                self.inputs.extend(
                    ((index, "param", item.field), "validation", item.adapter)
                    for item in _inputs(spec)
                )
            if plan.body_params:
                self.inputs.append(((index, "body", ""), "validation", _body_adapter(plan)))
            if route.response_model is not None:
                adapter = route.response_model.adapter
                self.inputs.append(((index, "response", ""), "serialization", adapter))
        if not self.inputs:
            return
        schemas, definitions = TypeAdapter.json_schemas(
            self.inputs,
            by_alias=True,
            ref_template=REF_TEMPLATE,
            schema_generator=_SchemaGenerator,
        )
        self.schemas = dict(schemas)
        self.definitions = dict(definitions.get("$defs", {}))

    def schema(self, key: SchemaKey, mode: JsonSchemaMode = "validation") -> Any:
        return self.schemas[(key, mode)]

    # Operations ---------------------------------------------------------------------------

    def paths(self) -> dict[str, dict[str, Any]]:
        paths: dict[str, dict[str, Any]] = {}
        for index, route in enumerate(self.routes):
            path = openapi_path(route.definition.path)
            item = paths.setdefault(path, {})
            for method in sorted(route.definition.methods):
                item[method.lower()] = self.operation(index, route, method, path)
        return paths

    def operation(self, index: int, route: CompiledRoute, method: str, path: str) -> Any:
        options = route.definition.options
        operation: dict[str, Any] = {}
        if options.get("tags"):
            operation["tags"] = list(options["tags"])
        summary, description = _summary_and_description(route)
        operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["operationId"] = self.operation_id(route, path, method)
        if options.get("deprecated"):
            operation["deprecated"] = True
        parameters = self.parameters(index, route)
        if parameters:
            operation["parameters"] = parameters
        body = self.request_body(index, route.plan)
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self.responses(index, route)
        requirements = self.requirements(route)
        if requirements:
            operation["security"] = requirements
        return operation

    def requirements(self, route: CompiledRoute) -> Requirements:
        schemes, requirements = route_security(route)
        if self.security is not None:
            more_schemes, more = self.security(route)
            schemes.update(more_schemes)
            requirements.extend(r for r in more if r not in requirements)
        self.security_schemes.update(schemes)
        return requirements

    def operation_id(self, route: CompiledRoute, path: str, method: str) -> str:
        """The id asked for, or FastAPI's `<name>_<path>_<method>`; made unique."""
        wanted = route.definition.options.get("operation_id")
        if wanted and len(route.definition.methods) > 1:
            wanted = f"{wanted}_{method.lower()}"
        base = wanted or _NON_WORD.sub("_", f"{route.definition.name}{path}_{method.lower()}")
        candidate, n = base, 2
        while candidate in self.operation_ids:
            candidate, n = f"{base}_{n}", n + 1
        if candidate != base:
            logger.warning("duplicate operationId %r; using %r", base, candidate)
        self.operation_ids.add(candidate)
        return candidate

    def parameters(self, index: int, route: CompiledRoute) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = []
        declared: set[str] = set()
        seen: set[tuple[str, str]] = set()  # two dependencies may read one key
        for spec in route.plan.params:
            if spec.source not in ("path", "query", "header", "cookie"):
                continue
            if spec.source == "path":
                declared.add(spec.key)
            if not spec.marker.include_in_schema:
                continue
            for item in _inputs(spec):
                if (spec.source, item.key.lower()) in seen:
                    continue
                seen.add((spec.source, item.key.lower()))
                parameters.append(self.parameter(index, route, spec.source, item))
        # Path parameters the handler does not take are still part of the URL.
        parameters.extend(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"title": _title(name), **_converter_schema(route, name)},
            }
            for name in route.template.param_names
            if name not in declared
        )
        return parameters

    def parameter(
        self, index: int, route: CompiledRoute, source: str, item: _Input
    ) -> dict[str, Any]:
        schema = dict(self.schema((index, "param", item.field)))
        if source == "path" and not schema.keys() - {"title", "description", "default"}:
            schema.update(_converter_schema(route, item.key))  # an unannotated argument
        parameter: dict[str, Any] = {
            "name": item.key,
            "in": source,
            "required": source == "path" or item.required,
            "schema": schema,
        }
        if item.description:
            parameter["description"] = item.description
        if item.deprecated:
            parameter["deprecated"] = True
        return parameter

    def request_body(self, index: int, plan: HandlerPlan) -> dict[str, Any] | None:
        if plan.body_params:
            first = plan.body_params[0]
            media_type = getattr(first.marker, "media_type", "application/json")
            return {
                "required": any(s.required for s in plan.body_params),
                "content": {media_type: {"schema": self.schema((index, "body", ""))}},
            }
        form = [s for s in plan.params if s.loc == "body" and s.marker.include_in_schema]
        if not form:
            return None
        items = [item for spec in form for item in _inputs(spec)]
        properties = {item.key: self.schema((index, "param", item.field)) for item in items}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [item.key for item in items if item.required]
        if required:
            schema["required"] = required
        multipart = any(s.source == "file" for s in plan.params)
        media_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
        return {"required": bool(required), "content": {media_type: {"schema": schema}}}

    def responses(self, index: int, route: CompiledRoute) -> dict[str, Any]:
        status = route.status_code or 200
        ok: dict[str, Any] = {"description": "Successful Response"}
        if status >= 200 and status not in (204, 304):
            schema = (
                self.schema((index, "response", ""), "serialization")
                if route.response_model is not None
                else {}
            )
            ok["content"] = {"application/json": {"schema": schema}}
        responses: dict[str, Any] = {str(status): ok}
        plan = route.plan
        if plan.body_params or plan.reads_form:
            responses.update(_BODY_ERROR_RESPONSES)
        if plan.has_input:
            responses["422"] = _VALIDATION_RESPONSE
        return responses


def build_openapi(
    routes: Sequence[CompiledRoute],
    *,
    title: str,
    version: str,
    description: str | None = None,
    summary: str | None = None,
    tags: Iterable[dict[str, Any]] | None = None,
    security: SecurityFor | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict) for `routes`; `security(route)` adds
    an app-wide feature's schemes and requirements."""
    shown = [r for r in routes if r.definition.options.get("include_in_schema", True)]
    builder = _Builder(shown, security)
    builder.collect()
    paths = builder.paths()
    info: dict[str, Any] = {"title": title, "version": version}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info, "paths": paths}
    if tags:
        document["tags"] = list(tags)
    schemas = dict(builder.definitions)
    if any(r.plan.has_input for r in shown):
        schemas.update(VALIDATION_ERROR_SCHEMAS)
    if any(r.plan.body_params or r.plan.reads_form for r in shown):
        schemas["HTTPError"] = HTTP_ERROR_SCHEMA
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = dict(sorted(schemas.items()))
    if builder.security_schemes:
        components["securitySchemes"] = dict(sorted(builder.security_schemes.items()))
    if components:
        document["components"] = components
    return document
