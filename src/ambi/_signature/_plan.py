"""The compiled plan of a route: where every argument of the handler and of each of its
dependencies comes from, and ONE pydantic model validating all request inputs at once.

Nothing here inspects anything per request: `HandlerPlan.validate` calls one getter per
input (chosen at compile time) and the model's validator once; `CallPlan.kwargs` fills a
callable's arguments from the validated values, the request, injected objects and the
results of dependencies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic_core import SchemaValidator

from ..exceptions import HTTPException
from ..http import Request
from ..params import Param
from ..routing import Converter
from ._body_errors import BodyErrors
from ._errors import ErrorMapper, error_order
from ._gather import gatherer
from ._sources import BODY_FIELD, MISSING, Getter, is_json_media, model_getter, scalar_getter

Source = Literal["path", "query", "header", "cookie", "body", "form", "file"]
_NO_VALUES: dict[str, Any] = {}
_JSON_OR_NONE = frozenset({"application/json", None})  # Content-Types taken without a look


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One input read from the request (shared by every callable that reads it)."""

    name: str  # the parameter name in the first callable that declared it
    field: str  # the field name in the plan's model
    source: Source
    key: str  # the name on the wire: query key, header name, cookie name, JSON key
    annotation: Any  # the type validated (UploadFile replaced by its validator)
    marker: Param
    is_list: bool = False
    #: A parameter model (`Annotated[Model, Query()]`): every field read from the source.
    is_model: bool = False

    @property
    def required(self) -> bool:
        return self.marker.required

    @property
    def loc(self) -> str:
        """The first element of this argument's error `loc`."""
        return "body" if self.source in ("form", "file") else self.source

    def getter(self, converter: Converter | None) -> Getter:
        if self.is_model:
            return model_getter(self.source, self.annotation, self.marker)
        return scalar_getter(self.source, self.key, self.annotation, self.marker, converter)


def _plain_text(spec: ParamSpec) -> bool:
    """Whether `spec` is validated as a `str` that any text passes unchanged."""
    if spec.annotation is not str or spec.is_model or spec.is_list:
        return False
    info = spec.marker.field_info()
    return not info.metadata and info.validate_default is not True


class CallPlan:
    """How to call one callable of a route (the handler or a dependency)."""

    __slots__ = (
        "body_args",
        "deps",
        "fn",
        "injected",
        "label",
        "outputs",
        "request_first",
        "request_names",
        "scope",
        "scopes",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        label: str,
        *,
        request_names: Sequence[str] = (),
        request_first: bool = False,
        injected: Sequence[tuple[str, Callable[[Request], Any]]] = (),
        outputs: Sequence[tuple[str, str]] = (),
        body_args: Sequence[tuple[str, str | None]] = (),
        deps: Sequence[tuple[str, int]] = (),
        scope: str = "request",
        scopes: Sequence[str] = (),
    ) -> None:
        self.fn = fn
        self.label = label
        self.request_names = tuple(request_names)
        self.request_first = request_first  # the request is the first positional parameter
        self.injected = tuple(injected)
        self.outputs = tuple(outputs)  # (argument, model field)
        self.body_args = tuple(body_args)  # (argument, attribute of the body or None)
        self.deps = tuple(deps)  # (argument, index of the dependency's result)
        self.scope = scope
        #: The security scopes accumulated on the way to this callable (`Security`).
        self.scopes = tuple(scopes)

    @property
    def takes_nothing(self) -> bool:
        return not (self.request_names or self.injected or self.outputs or self.body_args)

    def kwargs(self, request: Request, values: dict[str, Any], results: Any) -> dict[str, Any]:
        """The keyword arguments of this callable for one request."""
        # PERF: dict.fromkeys is one C call; a comprehension is a function call on 3.11.
        kwargs: dict[str, Any] = dict.fromkeys(self.request_names, request)
        for name, factory in self.injected:
            kwargs[name] = factory(request)
        for name, field in self.outputs:
            kwargs[name] = values[field]
        for name, attribute in self.body_args:
            body = values[BODY_FIELD]
            kwargs[name] = body if attribute is None else getattr(body, attribute)
        for name, index in self.deps:
            kwargs[name] = results[index]
        return kwargs

    def __repr__(self) -> str:
        return f"<CallPlan {self.label}>"


class HandlerPlan:
    """Every input of a route (handler and dependencies) and the one validator for them."""

    __slots__ = (
        "_body_only",
        "_errors",
        "_gather",
        "_getters",
        "body_model",
        "body_params",
        "dependencies",
        "embed_body",
        "extract",
        "handler",
        "model",
        "params",
        "reads_form",
        "text_inputs",
    )

    def __init__(
        self,
        handler: CallPlan,
        *,
        dependencies: Sequence[CallPlan] = (),
        params: Sequence[ParamSpec] = (),
        body_params: Sequence[ParamSpec] = (),
        embed_body: bool = False,
        body_model: type[BaseModel] | None = None,
        model: type[BaseModel] | None = None,
        path_types: dict[str, Converter] | None = None,
    ) -> None:
        self.handler = handler
        self.dependencies = tuple(dependencies)  # in the order they run
        self.params = tuple(params)
        self.body_params = tuple(body_params)
        self.embed_body = embed_body
        self.body_model = body_model  # the embedded body's model, for OpenAPI
        self.model = model
        self.reads_form = any(s.source in ("form", "file") for s in params)
        types_ = path_types or {}
        self._getters = tuple((s.field, s.getter(types_.get(s.key))) for s in params)
        #: The getters' reads in one function written for this route (`_gather`).
        self._gather = gatherer(self._getters, handler.label)
        #: When every input is a plain `str` (no constraint, no body), its getters: a
        #: text value found for each is its own validated value (`validate` is for the
        #: rest: a default to apply, a 422 to give).
        self.text_inputs: tuple[tuple[str, Getter], ...] | None = None
        if model is not None and not body_params and all(map(_plain_text, params)):
            self.text_inputs = self._getters
        locs = {s.field: (s.loc,) if s.is_model else (s.loc, s.key) for s in params}
        #: A route whose one input is a JSON body: its validator, for `extract`.
        self._body_only = _body_only_validator(self)
        #: The handler's keyword arguments for a request (a route without dependencies).
        self.extract: Callable[[Request], dict[str, Any]] = self._extract_all
        if self._body_only is not None:
            self.extract = self._extract_body
        elif self._params_only():
            self.extract = self._extract_params
        self._errors = ErrorMapper(
            locs,
            BodyErrors(self.body_params, embed_body) if self.body_params else None,
            error_order(handler, self.dependencies, self.params),
            self.reads_form,
        )

    # What the handler itself takes (kept for callers that look at the handler only).

    @property
    def request_names(self) -> tuple[str, ...]:
        return self.handler.request_names

    @property
    def request_first(self) -> bool:
        return self.handler.request_first

    @property
    def injected(self) -> tuple[tuple[str, Callable[[Request], Any]], ...]:
        return self.handler.injected

    @property
    def only_request(self) -> bool:
        """Nothing to extract: no dependency, and the handler takes no argument, or only
        the request as its first parameter."""
        handler = self.handler
        if self.model is not None or self.dependencies or handler.injected or handler.deps:
            return False
        names = handler.request_names
        return not names or (len(names) == 1 and handler.request_first)

    @property
    def has_input(self) -> bool:
        """Whether the plan validates anything (so a 422 is possible)."""
        return self.model is not None

    # Per request ---------------------------------------------------------------------------

    def validate(self, request: Request) -> dict[str, Any]:
        """Every input of the route, validated in one call, by field name.

        Raises `RequestValidationError` (422) for invalid input and `HTTPException` for a
        body that cannot be read (415 wrong content type, 400 not UTF-8).
        """
        model = self.model
        if model is None:
            return _NO_VALUES
        raw = self._gather(request)
        if self.body_params:
            body = self._body(request)
            if body is not MISSING:
                raw[BODY_FIELD] = body
        try:
            values: dict[str, Any] = model.__pydantic_validator__.validate_python(raw).__dict__
        except ValidationError as exc:
            raise self._errors.invalid(request, exc) from None
        return values

    def _extract_all(self, request: Request) -> dict[str, Any]:
        """`extract`: every input read, the route's model validating them at once."""
        # PERF: the handler's own arguments filled inline, without the dependency steps'
        # general `CallPlan.kwargs` (3-5% of a typed GET / validated POST in callgrind
        # instruction counts, benchmarks/bench_request.py cases under valgrind).
        handler = self.handler
        kwargs: dict[str, Any] = dict.fromkeys(handler.request_names, request)
        for name, factory in handler.injected:
            kwargs[name] = factory(request)
        model = self.model
        if model is None:
            return kwargs
        raw = self._gather(request)
        if self.body_params:
            body = self._body(request)
            if body is not MISSING:
                raw[BODY_FIELD] = body
        try:
            values = model.__pydantic_validator__.validate_python(raw).__dict__
        except ValidationError as exc:
            raise self._errors.invalid(request, exc) from None
        for name, field in handler.outputs:
            kwargs[name] = values[field]
        for name, attribute in handler.body_args:
            body = values[BODY_FIELD]
            kwargs[name] = body if attribute is None else getattr(body, attribute)
        return kwargs

    def _params_only(self) -> bool:
        """Whether the handler takes only validated parameters (no request, no injected
        object, no body) and the route has no dependency: `_extract_params` serves it."""
        handler = self.handler
        if self.model is None or self.body_params or self.dependencies:
            return False
        if handler.request_names or handler.injected or handler.body_args:
            return False
        return isinstance(self.model.__pydantic_validator__, SchemaValidator)

    def _extract_params(self, request: Request) -> dict[str, Any]:
        """`extract` for a handler that takes only validated parameters.

        PERF: `_extract_all` without its steps for the request, injected objects and the
        body, which such a route skips each time (bench_instructions "GET /items").
        """
        raw = self._gather(request)
        try:
            values = self.model.__pydantic_validator__.validate_python(raw).__dict__  # type: ignore[union-attr]
        except ValidationError as exc:
            raise self._errors.invalid(request, exc) from None
        kwargs: dict[str, Any] = {}
        for name, field in self.handler.outputs:
            kwargs[name] = values[field]
        return kwargs

    def _extract_body(self, request: Request) -> dict[str, Any]:
        """`extract` for a route whose one input is a JSON body handed whole.

        PERF: the body's bytes validated by its own type in one pydantic-core call, without
        the route's model around it (which holds the body as `Json[...]` and is built per
        request); the usual Content-Type answered without a call (POST /orders in
        bench_instructions; RESULTS.md, issue 15). No body, or a failure, goes the general
        way, which makes the route's 422 as ever.
        """
        body = request._body
        if body:
            if request._header("content-type") not in _JSON_OR_NONE:
                self._body(request)  # 415 unless a JSON media type
            try:
                value = self._body_only(body)  # type: ignore[misc]
            except ValidationError:
                return self._extract_all(request)
            handler = self.handler
            kwargs: dict[str, Any] = dict.fromkeys(handler.request_names, request)
            for name, factory in handler.injected:
                kwargs[name] = factory(request)
            for name, _ in handler.body_args:
                kwargs[name] = value
            return kwargs
        return self._extract_all(request)

    def _body(self, request: Request) -> Any:
        body = request._body
        if not body:
            # An embedded body is an object whose fields may all have defaults.
            return b"{}" if self.embed_body else MISSING
        content_type = request._header("content-type")
        if content_type is not None and not is_json_media(content_type):
            raise HTTPException(
                415,
                f"expected a JSON body (Content-Type: application/json), got {content_type!r}",
            )
        # pydantic-core's `Json` decodes the bytes and validates in the same call.
        return body


def _body_only_validator(plan: HandlerPlan) -> Callable[[bytes], Any] | None:
    """`validate_json` of the body's type, for a route whose only input is one required
    JSON body handed whole to the handler (the route's model then holds just the body,
    as `Json[type]` under the model's default config: the same validation, in JSON mode);
    None otherwise."""
    body = plan.body_params
    if plan.params or plan.dependencies or plan.embed_body or len(body) != 1:
        return None
    if not body[0].required or any(attribute for _, attribute in plan.handler.body_args):
        return None
    try:
        validator = TypeAdapter(body[0].annotation).validator
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError):
        return None  # not buildable on its own (a forward reference): the general way
    return validator.validate_json if isinstance(validator, SchemaValidator) else None
