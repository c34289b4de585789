"""Compiling a handler and its dependency graph, once, into a `HandlerPlan`.

Inference for an argument without a marker (FastAPI's rules):

| argument                                         | comes from                       |
|--------------------------------------------------|----------------------------------|
| named `request` (no annotation), or a `Request`  | the request itself               |
| websocket routes: a `WebSocket`, or named        | the connection itself            |
| `websocket` / `ws`, or the handler's first       |                                  |
| positional one (no annotation, no default, not   |                                  |
| a path parameter)                                |                                  |
| a type registered with `register_injectable`     | `factory(request)`               |
| `Depends(dep)` (default or in `Annotated`)       | what `dep` returns or yields     |
| `Security(dep, scopes=[...])`                    | the same, declaring OAuth2 scopes|
| a `SecurityScopes`                               | the scopes accumulated to it     |
| a name in the path template                      | the path                         |
| `UploadFile` (or a list / Optional of it)        | a multipart file                 |
| a model, dataclass, dict, or a sequence of these | the JSON body                    |
| anything else (scalars, lists of scalars)        | the query string (lists: repeats)|

A dependency declares its parameters exactly as a handler does, including other
dependencies. Every input of the whole graph goes into one model, so one validation call
serves the handler and all its dependencies, and a 422 lists all failing fields. Two
callables reading the same key with the same type share one field (and one value).
Dependencies are listed in the order they run: each after the ones it needs, in the order
they are declared (app, router and route `dependencies=` first); a dependency asked for
twice runs once unless `use_cache=False`. Cycles and signatures that cannot be served
raise `SignatureError` here, naming the chain.

Scopes (FastAPI's `Security`): the scopes of `Security(dep, scopes=...)` markers add up
from the route down each chain; each call plan records the scopes it was reached with
(OpenAPI documents security schemes with them). A dependency that uses scopes (declares
its own, takes `SecurityScopes`, is a security scheme, or needs one that does) is cached
per set of scopes, as in FastAPI: reached with other scopes, it runs again.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ..exceptions import SignatureError
from ..http import Request
from ..params import (
    BodyParam,
    DependsParam,
    Param,
    PathParam,
    SecurityParam,
    SecurityScopes,
)
from ..routing import Converter
from ..security._base import SecurityBase
from ._annotations import (
    callable_name,
    is_model_class,
    is_sequence,
    receives_connection,
    strip_optional,
    type_hints,
)
from ._fields import (
    Marker,
    body_field,
    build_model,
    inferred,
    split_annotated,
    validated_type,
    wire_key,
)
from ._plan import CallPlan, HandlerPlan, ParamSpec, Source
from ._sources import BODY_FIELD

#: Types injected by ambi rather than read from the request: type -> factory(request).
#: Features (BackgroundTasks, ...) register theirs with `register_injectable`.
_INJECTABLES: dict[type, Callable[[Request], Any]] = {}
_MODEL_SOURCES = ("query", "header", "cookie", "form")


def register_injectable(cls: type, factory: Callable[[Request], Any]) -> None:
    """Make every argument annotated `cls` (handler or dependency) get `factory(request)`;
    the factory returns the same object for the same request when it should be shared."""
    _INJECTABLES[cls] = factory


class _Call:
    """The arguments of one callable, as they are compiled."""

    def __init__(self, fn: Callable[..., Any], label: str, handler: bool = False) -> None:
        self.fn = fn
        self.label = label
        self.handler = handler  # the route's handler, not a dependency
        self.request_names: list[str] = []
        self.request_first = False
        self.injected: list[tuple[str, Callable[[Request], Any]]] = []
        self.outputs: list[tuple[str, str]] = []
        self.body: list[tuple[str, ParamSpec]] = []
        self.deps: list[tuple[str, int]] = []
        self.keys: dict[tuple[str, str], str] = {}  # (where, key) -> argument, in this call


class _Compiler:
    """Walks a handler's signature and its dependencies' and fills a `HandlerPlan`."""

    def __init__(
        self,
        label: str,
        path_names: Mapping[str, Converter],
        overrides: Mapping[Any, Any] | None,
        websocket: bool = False,
    ) -> None:
        self.label = label
        self.path_names = path_names
        self.websocket = websocket  # a websocket route: the connection is a WebSocket
        self.overrides = overrides or {}
        self.params: list[ParamSpec] = []
        self.body: list[ParamSpec] = []
        self.fields: dict[str, Any] = {}
        self.shared: dict[tuple[str, str], ParamSpec] = {}
        self.calls: list[CallPlan] = []
        self.cached: dict[tuple[Any, tuple[str, ...]], int] = {}
        self.chain: list[Callable[..., Any]] = []
        self.scopes: tuple[str, ...] = ()  # accumulated along the chain being compiled
        #: Whether a callable uses scopes (known once compiled), and the flags of the
        #: callables being compiled.
        self.uses_scopes: dict[Any, bool] = {}
        self.using: list[bool] = []
        self.count = 0  # inputs seen, for unique field names

    # Callables ----------------------------------------------------------------------------

    def call(
        self, fn: Callable[..., Any], label: str, scope: str = "request", handler: bool = False
    ) -> CallPlan:
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError) as exc:
            raise SignatureError(f"{label}: cannot read the signature: {exc}") from exc
        hints = type_hints(fn, label)
        call = _Call(fn, label, handler)
        for index, (name, parameter) in enumerate(signature.parameters.items()):
            self.argument(call, index, name, parameter, hints.get(name, parameter.annotation))
        return CallPlan(
            fn,
            label,
            request_names=call.request_names,
            request_first=call.request_first,
            injected=call.injected,
            outputs=call.outputs,
            body_args=[(name, spec.field) for name, spec in call.body],  # fixed in finish()
            deps=call.deps,
            scope=scope,
            scopes=self.scopes,
        )

    def dependency(self, marker: DependsParam, annotation: Any, owner: str) -> int:
        """Compile the dependency `marker` names (once per callable when cached); its
        index in the run order."""
        target = marker.dependency
        if target is None:
            target = strip_optional(annotation)
            if target is inspect.Parameter.empty or not callable(target):
                raise SignatureError(
                    f"{owner}: Depends() without a callable needs a class annotation to use"
                )
        target = self.overrides.get(target, target)
        own = marker.scopes if isinstance(marker, SecurityParam) else ()
        scopes = _merge(self.scopes, own)
        uses = self.uses_scopes.get(target)
        if marker.use_cache and uses is not None:
            cached = self.cached.get(_cache_key(target, scopes, bool(own) or uses))
            if cached is not None:
                self._used(bool(own) or uses)
                return cached
        if target in self.chain:
            names = [callable_name(f) for f in (*self.chain, target)]
            raise SignatureError(f"{self.label}: dependency cycle: {' -> '.join(names)}")
        label = f"{self.label}: dependency {callable_name(target)}"
        outer, self.scopes = self.scopes, scopes
        self.chain.append(target)
        self.using.append(isinstance(target, SecurityBase))
        try:
            plan = self.call(target, label, marker.scope)
        finally:
            self.chain.pop()
            self.scopes = outer
            uses = self.uses_scopes[target] = self.using.pop()
        self._used(bool(own) or uses)
        self.calls.append(plan)
        index = len(self.calls) - 1
        if marker.use_cache:
            self.cached[_cache_key(target, scopes, bool(own) or uses)] = index
        return index

    def _used(self, uses: bool) -> None:
        """A callable being compiled needs one that uses scopes: so it does too."""
        if uses and self.using:
            self.using[-1] = True

    # Arguments ----------------------------------------------------------------------------

    def argument(
        self, call: _Call, index: int, name: str, parameter: inspect.Parameter, annotation: Any
    ) -> None:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise SignatureError(
                f"{call.label}: positional-only parameter {name!r} is not supported"
            )
        base, marker = split_annotated(annotation, call.label)
        if isinstance(parameter.default, DependsParam):
            if marker is not None:
                raise SignatureError(f"{call.label}: {name!r} has a marker twice")
            marker = parameter.default
        if isinstance(marker, DependsParam):
            call.deps.append((name, self.dependency(marker, base, call.label)))
            return
        first = call.handler and index == 0 and parameter.default is inspect.Parameter.empty
        first = first and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
        if receives_connection(
            name, annotation, self.websocket, first, name in self.path_names, call.label
        ):
            call.request_names.append(name)
            if index == 0 and parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                call.request_first = True
            return
        bare = strip_optional(base)
        if bare is SecurityScopes:
            call.injected.append((name, _constant(SecurityScopes(self.scopes))))
            self._used(True)
            return
        if inspect.isclass(bare) and bare in _INJECTABLES:
            call.injected.append((name, _INJECTABLES[bare]))
            return
        param = self.marker_of(call.label, name, parameter, base, marker)
        self.input(call, name, base, param)

    def marker_of(
        self,
        label: str,
        name: str,
        parameter: inspect.Parameter,
        base: Any,
        marker: Marker | None,
    ) -> Param:
        """The marker that says where `name` comes from: given, or inferred."""
        if isinstance(parameter.default, Param):
            if marker is not None:
                raise SignatureError(f"{label}: {name!r} has a marker twice")
            marker = parameter.default
        elif isinstance(marker, Param) and parameter.default is not inspect.Parameter.empty:
            marker = marker.with_default(parameter.default)
        if not isinstance(marker, Param):
            marker = inferred(name, base, parameter.default, self.path_names)
        if isinstance(marker, PathParam):
            if (marker.alias or name) not in self.path_names:
                raise SignatureError(
                    f"{label}: path parameter {marker.alias or name!r} is not in the route's "
                    f"path template (it has: {', '.join(self.path_names) or 'no parameters'})"
                )
        elif name in self.path_names and marker.alias is None:
            raise SignatureError(
                f"{label}: {name!r} is in the path template but declared "
                f"{type(marker).__name__.removesuffix('Param')}(); use Path() or rename it"
            )
        return marker

    def input(self, call: _Call, name: str, base: Any, marker: Param) -> None:
        if base is inspect.Parameter.empty:
            base = Any
        source = typing.cast(Source, marker.source)
        is_model = source in _MODEL_SOURCES and is_model_class(base)
        spec = ParamSpec(
            name=name,
            field=f"p{self.count}",
            source=source,
            key=wire_key(name, marker),
            annotation=strip_optional(base) if is_model else validated_type(base, marker),
            marker=marker,
            is_list=is_sequence(base),
            is_model=is_model,
        )
        where = "body" if spec.loc == "body" else spec.source
        where_key = (where, "" if is_model else spec.key.lower())
        other = call.keys.setdefault(where_key, name)
        if other != name:
            raise SignatureError(
                f"{call.label}: {other!r} and {name!r} both read {where} key {spec.key!r}"
            )
        self.count += 1
        spec = self.share(spec, where_key, call.label)
        if isinstance(marker, BodyParam):
            call.body.append((name, spec))
        else:
            call.outputs.append((name, spec.field))

    def share(self, spec: ParamSpec, where_key: tuple[str, str], label: str) -> ParamSpec:
        """The spec already read under the same key by another callable, or `spec` itself
        (registered as a new field)."""
        known = self.shared.get(where_key)
        if known is not None and not spec.is_model:
            if known.annotation == spec.annotation and type(known.marker) is type(spec.marker):
                return known
            if isinstance(spec.marker, BodyParam):
                raise SignatureError(
                    f"{label}: body key {spec.key!r} is read as {spec.annotation!r} here and "
                    f"as {known.annotation!r} by {known.name!r}"
                )
        self.shared.setdefault(where_key, spec)
        if isinstance(spec.marker, BodyParam):
            self.body.append(spec)
        else:
            self.params.append(spec)
            self.fields[spec.field] = (spec.annotation, spec.marker.field_info())
        return spec

    # The plan -----------------------------------------------------------------------------

    def finish(self, handler: CallPlan) -> HandlerPlan:
        embed = False
        body_model: type[BaseModel] | None = None
        if self.body:
            if any(s.loc == "body" for s in self.params):
                raise SignatureError(
                    f"{self.label}: a route cannot take both a JSON body "
                    f"({', '.join(s.name for s in self.body)}) and form fields"
                )
            embed = len(self.body) > 1 or any(
                isinstance(s.marker, BodyParam) and s.marker.embed for s in self.body
            )
            field, body_model = body_field(self.body, embed, self.label)
            self.fields[BODY_FIELD] = field
        if not embed:  # the one body argument gets the whole body
            for call in (*self.calls, handler):
                call.body_args = tuple((name, None) for name, _ in call.body_args)
        return HandlerPlan(
            handler,
            dependencies=self.calls,
            params=self.params,
            body_params=self.body,
            embed_body=embed,
            body_model=body_model,
            model=build_model(self.label, self.fields) if self.fields else None,
            path_types=dict(self.path_names),
        )


def compile_plan(
    fn: Callable[..., Any],
    path_params: Mapping[str, Converter] | None = None,
    *,
    where: str = "",
    dependencies: Sequence[Any] = (),
    overrides: Mapping[Any, Any] | None = None,
    websocket: bool = False,
) -> HandlerPlan:
    """Compile `fn`'s signature and its dependency graph; `SignatureError` for what cannot
    be served. `dependencies` run first, for their effects; `overrides` replaces
    dependency callables (`app.dependency_overrides`); `websocket=True` compiles a
    websocket route, whose callables receive a `WebSocket` instead of a request."""
    label = where or callable_name(fn)
    compiler = _Compiler(label, dict(path_params or {}), overrides, websocket)
    for marker in dependencies:
        if not isinstance(marker, DependsParam):
            raise SignatureError(
                f"{label}: dependencies=[...] takes Depends(...) markers, not {marker!r}"
            )
        compiler.dependency(marker, inspect.Parameter.empty, label)
    handler = compiler.call(fn, label, handler=True)
    return compiler.finish(handler)


def _merge(scopes: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    """`scopes` then the new ones of `more`, in order."""
    return scopes + tuple(s for s in dict.fromkeys(more) if s not in scopes) if more else scopes


def _cache_key(target: Any, scopes: tuple[str, ...], uses: bool) -> tuple[Any, tuple[str, ...]]:
    """FastAPI's dependency cache key: the callable, and its scopes if it uses them."""
    return (target, tuple(sorted(scopes)) if uses else ())


def _constant(value: Any) -> Callable[[Request], Any]:
    def factory(request: Request) -> Any:
        return value

    return factory
