"""What the OpenAPI document says about one route, read from its definition and its plan:
the summary and description, the parameters in FastAPI's order, the form fields, the
success status and whether it has a body, the schema of a path converter, and the security
schemes among its dependencies (with the scopes they were reached with)."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._signature import HandlerPlan, ParamSpec, type_hints
from ..exceptions import SignatureError
from ..security._base import SecurityBase
from ._schemas import title

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..http import Response

_LOCATIONS = ("path", "query", "header", "cookie")


def summary_and_description(route: CompiledRoute) -> tuple[str, str | None]:
    """FastAPI's: the summary given, else the handler's name; the description given, else
    the docstring (up to a form feed)."""
    options = route.definition.options
    summary = options.get("summary") or route.definition.name.replace("_", " ").title()
    description = options.get("description")
    if description is None:
        doc = inspect.cleandoc(getattr(route.definition.endpoint, "__doc__", None) or "")
        description = doc.split("\f")[0].strip()
    return summary, description or None


def ordered_params(plan: HandlerPlan) -> list[ParamSpec]:
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


def form_specs(plan: HandlerPlan) -> list[ParamSpec]:
    return [s for s in plan.params if s.loc == "body" and s.marker.include_in_schema]


def form_fields(spec: ParamSpec) -> list[tuple[str, tuple[Any, Any]]]:
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


def route_status(route: CompiledRoute, response_class: type[Response]) -> str:
    """The success status documented: the route's, else the response class's default
    (307 for `RedirectResponse`), else 200."""
    if route.status_code is not None:
        return str(route.status_code)
    default = inspect.signature(response_class.__init__).parameters.get("status_code")
    if default is not None and isinstance(default.default, int):
        return str(default.default)
    return "200"


def body_allowed(status: int | None) -> bool:
    return status is None or not (status < 200 or status in (204, 205, 304))


def returns_any(route: CompiledRoute) -> bool:
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


def converter_schema(route: CompiledRoute, name: str) -> dict[str, Any]:
    converter = route.template.param_types().get(name)
    return dict(converter.openapi) if converter is not None else {"type": "string"}


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
