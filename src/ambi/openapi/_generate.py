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
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._signature import HandlerPlan
from ..http import JSONResponse
from ._collect import Collector, UniqueId
from ._route_info import (
    Requirements,
    SecurityFor,
    body_allowed,
    converter_schema,
    form_specs,
    ordered_params,
    returns_any,
    route_security,
    route_status,
    summary_and_description,
)
from ._schemas import (
    BODY_ERROR_RESPONSES,
    HTTP_ERROR_SCHEMA,
    METHODS_WITH_BODY,
    OPENAPI_VERSION,
    REF_TEMPLATE,
    VALIDATION_ERROR_SCHEMAS,
    VALIDATION_RESPONSE,
    Input,
    deep_update,
    inputs,
    status_description,
    title,
    without_nulls,
)

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute

__all__ = ["HTTP_ERROR_SCHEMA", "REF_TEMPLATE", "VALIDATION_ERROR_SCHEMAS", "build_openapi"]


class _Builder(Collector):
    """Builds the `paths` of the document from what `Collector` collected: each operation
    put together, and the security schemes its requirements name."""

    def __init__(
        self,
        routes: Sequence[CompiledRoute],
        unique_id: UniqueId | None,
        security: SecurityFor | None = None,
    ) -> None:
        super().__init__(routes, unique_id)
        self.security = security
        self.security_schemes: dict[str, Any] = {}
        self.uses_errors = False  # a 400 / 415 answer documented: HTTPError is needed
        self.uses_validation = False  # a 422 answer documented

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
        summary, description = summary_and_description(route)
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
        for spec in ordered_params(route.plan):
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
                "schema": {"title": title(name), **converter_schema(route, name)},
            }
            for name in missing
        ]
        return parameters

    def parameter(
        self, index: int, route: CompiledRoute, source: str, item: Input
    ) -> dict[str, Any]:
        schema = dict(self.schema((index, "param", item.field)))
        if source == "path" and not schema.keys() - {"title", "description", "default"}:
            schema.update(converter_schema(route, item.key))  # an unannotated argument
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
            form = form_specs(plan)
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
        status = route_status(route, response_class)
        ok: dict[str, Any] = {
            "description": options.get("response_description", "Successful Response")
        }
        responses: dict[str, Any] = {status: ok}
        if body_allowed(route.status_code) and media_type:
            schema: Any = {"type": "string"}
            if issubclass(response_class, JSONResponse):
                schema = {}
                if route.response_model is not None:
                    schema = dict(self.schema((index, "response", ""), "serialization"))
                if (route.response_model is not None and "$ref" not in schema) or returns_any(
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
