"""The first pass over the routes for the OpenAPI document: each route's names
(FastAPI's operationIds, `Body_<operation id>` schemas) and the types of its inputs and
outputs, collected for one `TypeAdapter.json_schemas` call over the whole app, so that a
model used by several routes lands once in `components/schemas`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, create_model
from pydantic.json_schema import JsonSchemaMode

from .._signature import HandlerPlan
from ._route_info import form_fields, form_specs
from ._schemas import REF_TEMPLATE, SchemaGenerator, body_adapter, default_unique_id, inputs, title

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..routing import RouteDef

logger = logging.getLogger("ambi.openapi")

UniqueId = Callable[["RouteDef"], str]
SchemaKey = tuple[int, str, str]  # (route index, "param" / "body" / "response"..., field)


class Collector:
    """The names and the schemas of the routes' operations: first every type is collected,
    then pydantic gives all schemas in one call (`collect()`)."""

    def __init__(self, routes: Sequence[CompiledRoute], unique_id: UniqueId | None) -> None:
        self.routes = routes
        self.unique_id = unique_id
        self.inputs: list[tuple[SchemaKey, JsonSchemaMode, TypeAdapter[Any]]] = []
        self.schemas: dict[tuple[SchemaKey, JsonSchemaMode], Any] = {}
        self.definitions: dict[str, Any] = {}
        self.operation_ids: set[str] = set()
        self.body_names: set[str] = set()
        self.ids: list[str] = [self.route_id(route) for route in routes]

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
            form = form_specs(plan)
            if not form:
                return None
            if len(form) == 1 and form[0].is_model:  # a form model is the body itself
                return TypeAdapter(form[0].annotation)
            fields = dict(field for spec in form for field in form_fields(spec))
        name = self._unique(f"Body_{self.ids[index]}", self.body_names, "body schema name")
        model: type[Any] = create_model(name, **fields)
        return TypeAdapter(model)

    def schema(self, key: SchemaKey, mode: JsonSchemaMode = "validation") -> Any:
        return self.schemas[(key, mode)]
