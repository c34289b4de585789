"""The OpenAPI 3.1 document, generated from the routes' compiled plans.

Every schema comes from the same pydantic types the plans validate with: one
`TypeAdapter.json_schemas` call for the whole app, so models used by several routes land
once in `components/schemas` (named as pydantic names them, `$ref`s to
`#/components/schemas/<Model>`).

The document follows FastAPI's conventions, so that a client generated from a FastAPI
app's schema keeps working after the switch: operationIds `<name><path>_<method>` (or
`operation_id=`, or `generate_unique_id_function(route)`), embedded and form bodies as
`Body_<operation id>` schemas by `$ref`, parameters grouped path, query, header, cookie
(the handler's before its dependencies'), titles as pydantic gives them (`X-Token` for a
header), no `"default": null`, the summary from the handler's name and the description
from its docstring, `responses=` / `response_description=` / `openapi_extra=` as
FastAPI merges them. ambi documents more than FastAPI: its 400 and 415 answers for
bodies it cannot read, and a distinct operationId for each method of a route with
several.

Security: every security scheme among a route's dependencies (`ambi.security`) lands in
`components/securitySchemes` under its `scheme_name`, and in the operation's `security`
with the scopes accumulated on the way to it (merged per scheme, as FastAPI does); an
app-wide verifier (`enable_jwt`) adds its own through `security=`.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, create_model
from pydantic.json_schema import JsonSchemaMode

from .._signature import HandlerPlan, ParamSpec, type_hints
from ..exceptions import SignatureError
from ..http import JSONResponse, Response
from ..security._base import SecurityBase
from ._schemas import (
    BODY_ERROR_RESPONSES,
    HTTP_ERROR_SCHEMA,
    METHODS_WITH_BODY,
    OPENAPI_VERSION,
    REF_TEMPLATE,
    VALIDATION_ERROR_SCHEMAS,
    VALIDATION_RESPONSE,
    Input,
    SchemaGenerator,
    body_adapter,
    deep_update,
    default_unique_id,
    inputs,
    status_description,
    title,
    without_nulls,
)

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..routing import RouteDef

__all__ = ["HTTP_ERROR_SCHEMA", "REF_TEMPLATE", "VALIDATION_ERROR_SCHEMAS", "build_openapi"]

logger = logging.getLogger("ambi.openapi")

UniqueId = Callable[["RouteDef"], str]
SchemaKey = tuple[int, str, str]  # (route index, "param" / "body" / "response"..., field)
_LOCATIONS = ("path", "query", "header", "cookie")


def _summary_and_description(route: CompiledRoute) -> tuple[str, str | None]:
    """FastAPI's: the summary given, else the handler's name; the description given, else
    the docstring (up to a form feed)."""
    options = route.definition.options
    summary = options.get("summary") or route.definition.name.replace("_", " ").title()
    description = options.get("description")
    if description is None:
        doc = inspect.cleandoc(getattr(route.definition.endpoint, "__doc__", None) or "")
        description = doc.split("\f")[0].strip()
    return summary, description or None


def _ordered_params(plan: HandlerPlan) -> list[ParamSpec]:
    """The plan's parameters in FastAPI's order: the handler's own, then each dependency's
    (depth first, route-level `dependencies=` before the handler's `Depends`), grouped by
    location (path, query, header, cookie)."""
    by_field = {spec.field: spec for spec in plan.params}
    calls = plan.dependencies
    used = {index for call in (plan.handler, *calls) for _, index in call.deps}
    route_level = [index for index in range(len(calls)) if index not in used]
    ordered: list[ParamSpec] = []
    seen_fields: set[str] = set()
    visited: set[int] = set()

    def visit(outputs: Iterable[tuple[str, str]], children: Iterable[int]) -> None:
        for _, field in outputs:
            if field in by_field and field not in seen_fields:
                seen_fields.add(field)
                ordered.append(by_field[field])
        for index in children:
            if index not in visited:
                visited.add(index)
                visit(calls[index].outputs, [i for _, i in calls[index].deps])

    visit(plan.handler.outputs, [*route_level, *(i for _, i in plan.handler.deps)])
    ordered.extend(spec for spec in plan.params if spec.field not in seen_fields)
    return [spec for location in _LOCATIONS for spec in ordered if spec.source == location]


def _form_specs(plan: HandlerPlan) -> list[ParamSpec]:
    return [s for s in plan.params if s.loc == "body" and s.marker.include_in_schema]


def _route_status(route: CompiledRoute, response_class: type[Response]) -> str:
    """The success status documented: the route's, else the response class's default
    (307 for `RedirectResponse`), else 200."""
    if route.status_code is not None:
        return str(route.status_code)
    default = inspect.signature(response_class.__init__).parameters.get("status_code")
    if default is not None and isinstance(default.default, int):
        return str(default.default)
    return "200"


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
        self,
        routes: Sequence[CompiledRoute],
        unique_id: UniqueId | None,
        security: SecurityFor | None = None,
    ) -> None:
        self.routes = routes
        self.unique_id = unique_id
        self.security = security
        self.security_schemes: dict[str, Any] = {}
        self.inputs: list[tuple[SchemaKey, JsonSchemaMode, TypeAdapter[Any]]] = []
        self.schemas: dict[tuple[SchemaKey, JsonSchemaMode], Any] = {}
        self.definitions: dict[str, Any] = {}
        self.operation_ids: set[str] = set()
        self.body_names: set[str] = set()
        self.ids: list[str] = [self.route_id(route) for route in routes]
        self.uses_errors = False  # a 400 / 415 answer documented: HTTPError is needed
        self.uses_validation = False  # a 422 answer documented

    # Names --------------------------------------------------------------------------------

    def route_id(self, route: CompiledRoute) -> str:
        """FastAPI's `unique_id`: `operation_id=`, else the route's (or the app's)
        `generate_unique_id_function`, else `<name><path>_<first method>`."""
        definition = route.definition
        options = definition.options
        given = options.get("operation_id")
        if given:
            return given
        generate = options.get("generate_unique_id_function") or self.unique_id
        if generate is not None:
            return str(generate(definition))
        method = sorted(definition.methods)[0]
        return default_unique_id(definition.name, definition.path_format, method)

    def operation_id(self, index: int, route: CompiledRoute, method: str) -> str:
        """The route's id, one per method when it has several (FastAPI repeats it);
        made unique in the document."""
        definition = route.definition
        base = self.ids[index]
        if len(definition.methods) > 1:
            options = definition.options
            if options.get("operation_id") or options.get("generate_unique_id_function"):
                base = f"{base}_{method.lower()}"
            elif self.unique_id is None:
                base = default_unique_id(definition.name, definition.path_format, method)
            else:
                base = f"{base}_{method.lower()}"
        return self._unique(base, self.operation_ids, "operationId")

    @staticmethod
    def _unique(base: str, taken: set[str], what: str) -> str:
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        if candidate != base:
            logger.warning("duplicate %s %r; using %r", what, base, candidate)
        taken.add(candidate)
        return candidate

    # Schemas ------------------------------------------------------------------------------

    def collect(self) -> None:
        for index, route in enumerate(self.routes):
            self.collect_route(index, route)
        if not self.inputs:
            return
        schemas, definitions = TypeAdapter.json_schemas(
            self.inputs,
            by_alias=True,
            ref_template=REF_TEMPLATE,
            schema_generator=SchemaGenerator,
        )
        self.schemas = dict(schemas)
        self.definitions = dict(definitions.get("$defs", {}))

    def collect_route(self, index: int, route: CompiledRoute) -> None:
        plan = route.plan
        for spec in plan.params:
            for item in inputs(spec):
                self.inputs.append(((index, "param", item.field), "validation", item.adapter))
        body = self.body_adapter(index, plan)
        if body is not None:
            self.inputs.append(((index, "body", ""), "validation", body))
        if route.response_model is not None:
            adapter = route.response_model.adapter
            self.inputs.append(((index, "response", ""), "serialization", adapter))
        for status, response in route.definition.options.get("responses", {}).items():
            model = response.get("model")
            if model is not None:
                extra: TypeAdapter[Any] = TypeAdapter(model)
                self.inputs.append(((index, "extra", str(status)), "serialization", extra))

    def body_adapter(self, index: int, plan: HandlerPlan) -> TypeAdapter[Any] | None:
        """The request body's schema source: a single body argument as it is; embedded
        or form fields as FastAPI's `Body_<operation id>` model."""
        if plan.body_params and not plan.embed_body:
            return body_adapter(plan.body_params[0])
        if plan.body_params:
            fields: dict[str, Any] = {
                s.field: (s.annotation, s.marker.field_info(alias=s.key, title=title(s.key)))
                for s in plan.body_params
            }
        else:
            form = _form_specs(plan)
            if not form:
                return None
            if len(form) == 1 and form[0].is_model:  # a form model is the body itself
                return TypeAdapter(form[0].annotation)
            fields = dict(field for spec in form for field in _form_fields(spec))
        name = self._unique(f"Body_{self.ids[index]}", self.body_names, "body schema name")
        model: type[Any] = create_model(name, **fields)
        return TypeAdapter(model)

    def schema(self, key: SchemaKey, mode: JsonSchemaMode = "validation") -> Any:
        return self.schemas[(key, mode)]

    # Operations ---------------------------------------------------------------------------

    def paths(self) -> dict[str, dict[str, Any]]:
        paths: dict[str, dict[str, Any]] = {}
        for index, route in enumerate(self.routes):
            item = paths.setdefault(route.definition.path_format, {})
            for method in sorted(route.definition.methods):
                item[method.lower()] = self.operation(index, route, method)
        return paths

    def operation(self, index: int, route: CompiledRoute, method: str) -> Any:
        options = route.definition.options
        operation: dict[str, Any] = {}
        if options.get("tags"):
            operation["tags"] = list(options["tags"])
        summary, description = _summary_and_description(route)
        operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["operationId"] = self.operation_id(index, route, method)
        if options.get("deprecated"):
            operation["deprecated"] = True
        parameters = self.parameters(index, route)
        if parameters:
            operation["parameters"] = parameters
        if method in METHODS_WITH_BODY:
            body = self.request_body(index, route.plan)
            if body is not None:
                operation["requestBody"] = body
        operation["responses"] = self.responses(index, route)
        requirements = self.requirements(route)
        if requirements:
            operation["security"] = requirements
        extra = options.get("openapi_extra")
        if extra:
            deep_update(operation, extra)
        return operation

    def requirements(self, route: CompiledRoute) -> Requirements:
        schemes, requirements = route_security(route)
        if self.security is not None:
            more_schemes, more = self.security(route)
            schemes.update(more_schemes)
            requirements.extend(r for r in more if r not in requirements)
        self.security_schemes.update(schemes)
        return requirements

    def parameters(self, index: int, route: CompiledRoute) -> list[dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        declared: set[str] = set()
        for spec in _ordered_params(route.plan):
            if spec.source == "path":
                declared.add(spec.key)
            if not spec.marker.include_in_schema:
                continue
            for item in inputs(spec):
                parameter = self.parameter(index, route, spec.source, item)
                key = (spec.source, item.key)
                # FastAPI: a required declaration of a parameter wins over optional ones
                if key not in found or parameter["required"]:
                    found[key] = parameter
        parameters = list(found.values())
        # Path parameters the handler does not take are still part of the URL.
        missing = [name for name in route.template.param_names if name not in declared]
        position = sum(1 for p in parameters if p["in"] == "path")
        parameters[position:position] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"title": title(name), **_converter_schema(route, name)},
            }
            for name in missing
        ]
        return parameters

    def parameter(
        self, index: int, route: CompiledRoute, source: str, item: Input
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
        if item.examples:
            parameter["examples"] = copy.deepcopy(item.examples)
        if item.deprecated:
            parameter["deprecated"] = True
        return parameter

    def request_body(self, index: int, plan: HandlerPlan) -> dict[str, Any] | None:
        if (index, "body", "") not in {key for key, _, _ in self.inputs}:
            return None
        schema = dict(self.schema((index, "body", "")))
        if "$ref" in schema:
            schema.pop("title", None)  # a model's own title stands (as in FastAPI)
        content: dict[str, Any] = {"schema": schema}
        if plan.body_params:
            first = plan.body_params[0]
            media_type = getattr(first.marker, "media_type", "application/json")
            required = any(s.required for s in plan.body_params)
            examples = None if plan.embed_body else first.marker.openapi_examples
            if examples:
                content["examples"] = copy.deepcopy(examples)
        else:
            form = _form_specs(plan)
            multipart = any(s.source == "file" for s in plan.params)
            media_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
            required = any(item.required for spec in form for item in inputs(spec))
        body: dict[str, Any] = {"content": {media_type: content}}
        if required:
            body["required"] = True
        return body

    def responses(self, index: int, route: CompiledRoute) -> dict[str, Any]:
        options = route.definition.options
        response_class = route.response_class
        media_type = response_class.media_type
        status = _route_status(route, response_class)
        ok: dict[str, Any] = {
            "description": options.get("response_description", "Successful Response")
        }
        responses: dict[str, Any] = {status: ok}
        if _body_allowed(route.status_code) and media_type:
            schema: Any = {"type": "string"}
            if issubclass(response_class, JSONResponse):
                schema = {}
                if route.response_model is not None:
                    schema = dict(self.schema((index, "response", ""), "serialization"))
                if (route.response_model is not None and "$ref" not in schema) or _returns_any(
                    route
                ):
                    schema["title"] = title(f"Response_{self.ids[index]}")
            ok["content"] = {media_type: {"schema": schema}}
        for key, extra in options.get("responses", {}).items():
            self.extra_response(responses, index, key, extra, media_type)
        plan = route.plan
        if plan.body_params or plan.reads_form:
            for key, value in BODY_ERROR_RESPONSES.items():
                responses.setdefault(key, copy.deepcopy(value))
                self.uses_errors = True
        if plan.has_input and not {"422", "4XX", "default"} & set(responses):
            responses["422"] = VALIDATION_RESPONSE
            self.uses_validation = True
        return responses

    def extra_response(
        self,
        responses: dict[str, Any],
        index: int,
        status: int | str,
        extra: dict[str, Any],
        media_type: str | None,
    ) -> None:
        """One entry of `responses=`, merged as FastAPI merges it."""
        update = copy.deepcopy({k: v for k, v in extra.items() if k != "model"})
        key = str(status).upper()
        key = "default" if key == "DEFAULT" else key
        response = responses.setdefault(key, {})
        if extra.get("model") is not None:
            schema = self.schema((index, "extra", str(status)), "serialization")
            content = update.setdefault("content", {})
            target = content.setdefault(media_type or "application/json", {})
            deep_update(target.setdefault("schema", {}), schema)
        description = (
            update.get("description")
            or response.get("description")
            or status_description(str(status))
            or "Additional Response"
        )
        deep_update(response, update)
        response["description"] = description


def _returns_any(route: CompiledRoute) -> bool:
    """A handler annotated `-> Any` without `response_model=`: FastAPI documents an
    untyped response model (a titled empty schema)."""
    definition = route.definition
    if route.response_model is not None or "response_model" in definition.options:
        return False
    try:
        hints = type_hints(definition.endpoint, route.label)
    except SignatureError:  # pragma: no cover - the route compiled with these hints
        return False
    return hints.get("return") is Any


def _body_allowed(status: int | None) -> bool:
    return status is None or not (status < 200 or status in (204, 205, 304))


def _converter_schema(route: CompiledRoute, name: str) -> dict[str, Any]:
    converter = route.template.param_types().get(name)
    return dict(converter.openapi) if converter is not None else {"type": "string"}


def _form_fields(spec: ParamSpec) -> list[tuple[str, tuple[Any, Any]]]:
    """The fields of `Body_<id>` for one form argument (each field of a form model)."""
    if not spec.is_model:
        info = spec.marker.field_info(alias=spec.key, title=title(spec.key))
        return [(spec.field, (spec.annotation, info))]
    fields = []
    for name, field in spec.annotation.model_fields.items():
        info = copy.copy(field)
        info.title = info.title or title(field.alias or name)
        fields.append((f"{spec.field}__{name}", (field.annotation, info)))
    return fields


def build_openapi(
    routes: Sequence[CompiledRoute],
    *,
    title: str,
    version: str,
    description: str | None = None,
    summary: str | None = None,
    tags: Iterable[dict[str, Any]] | None = None,
    info: dict[str, Any] | None = None,
    servers: Sequence[dict[str, Any]] | None = None,
    generate_unique_id_function: UniqueId | None = None,
    security: SecurityFor | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict) for `routes`. `info` (when given)
    replaces the `info` object built from `title`, `version`, `summary`, `description`;
    `security(route)` adds an app-wide feature's schemes and requirements."""
    shown = [r for r in routes if r.definition.options.get("include_in_schema", True)]
    builder = _Builder(shown, generate_unique_id_function, security)
    builder.collect()
    paths = builder.paths()
    if info is None:
        info = {"title": title, "version": version}
        if summary:
            info["summary"] = summary
        if description:
            info["description"] = description
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if servers:
        document["servers"] = [dict(server) for server in servers]
    document["paths"] = paths
    schemas = dict(builder.definitions)
    if builder.uses_validation:
        schemas.update(VALIDATION_ERROR_SCHEMAS)
    if builder.uses_errors:
        schemas["HTTPError"] = HTTP_ERROR_SCHEMA
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = dict(sorted(schemas.items()))
    if builder.security_schemes:
        components["securitySchemes"] = dict(sorted(builder.security_schemes.items()))
    if components:
        document["components"] = components
    if tags:
        document["tags"] = list(tags)
    return without_nulls(document)  # type: ignore[no-any-return]
