"""A route compiled for serving: `await route.handle(request)` gives its `Response`.

The route is compiled when it is registered (the signature, the dependency graph, the
validator, the response model, the renderer: mistakes raise there), and its pipeline is
put together by `freeze(app)` when the app starts, from only the stages it uses:

    [feature stages] -> read the body -> validate once -> dependencies -> handler -> render

How the body is read (whole, as a form while it arrives, or by the handler through
`request.stream()`) and within which limits is decided here too (`_body.py`).

A route with no dependencies takes the short path (`_plain`), exactly as before the
pipeline existed; after-send work (background tasks, dependency cleanup) costs nothing
to a route that has none.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._signature import HandlerPlan, ResponseModel, compile_plan, compile_response_model
from ..cache import route_handler
from ..exceptions import ConfigurationError, SignatureError
from ..execution import Engine, ExecutionKind, Invoker
from ..http import FormLimits, JSONResponse, Request, Response
from ..routing import PathTemplate, RouteDef
from ._body import UploadSettings, form_limits, route_body_limit
from ._deps import DependencyRunner, failed
from ._docs import check_documentation
from ._render import check_response_class, renderer_for, to_response
from ._sub_response import merge_sub_response, uses_sub_response

if TYPE_CHECKING:
    from ..app import App

Next = Callable[[Request], Awaitable[Response]]
Stage = Callable[[Request, Next], Awaitable[Response]]


class Wrapper:
    """What a stage factory returns to wrap the rest of the pipeline once, when the app
    starts (`wrap(next) -> handler`), rather than be called with `call_next` per request:
    for layers that are themselves chains (route middleware), and for stages that would
    rather not pay a frame more per request (a plain stage is called through a partial
    that passes `call_next`; a wrapped one costs its own coroutine at most)."""

    __slots__ = ("wrap",)

    def __init__(self, wrap: Callable[[Next], Next]) -> None:
        self.wrap = wrap


StageFactory = Callable[["CompiledRoute", "App"], Stage | Wrapper | None]


class StageOrder(enum.IntEnum):
    """Where a feature's stage sits in a route's pipeline: lower runs first (outermost).

    Everything here runs before the body is read, so a request refused by a stage costs no
    body read and no validation.
    """

    # Outermost: what app.enable_metrics() measures (in the app's dispatch, around every
    # stage: no stage of its own).
    METRICS = 5
    TRACING = 6  # one server span per request (app.enable_tracing)
    MIDDLEWARE = 8  # middleware= of include_router, Router and the route (ambi.middleware)
    RATE_LIMIT = 10  # refuse floods before any other work
    AUTHENTICATION = 20  # who is asking (JWT -> request.auth)
    GUARDS = 30  # may they (guards=, RoleGuard)
    CACHE = 40  # a cached response skips validation and the handler
    LIMITS = 50  # concurrency limits and timeouts around the work itself


#: Route options that name a feature not built yet: refused at registration, never ignored.
_NOT_YET: dict[str, str] = {}


def _staged(stage: Stage, call_next: Next, request: Request) -> Awaitable[Response]:
    return stage(request, call_next)


async def _reading_form(limits: FormLimits, core: Next, request: Request) -> Response:
    await request.read_form(limits)
    return await core(request)


class DependencyOverrides(dict[Any, Any]):
    """`app.dependency_overrides`: a dict that counts its changes, so routes know when to
    recompile their dependency graph (and pay nothing while it is empty)."""

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def pop(self, key: Any, *default: Any) -> Any:
        value = super().pop(key, *default)
        self._changed()
        return value

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self._changed()
        return item

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = super().setdefault(key, default)
        self._changed()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()


def _check_picklable_inputs(plan: HandlerPlan, where: str) -> None:
    """A run='process' handler's arguments are pickled to its process: refuse at
    registration the ones that are known not to pickle."""
    if plan.request_names:
        raise SignatureError(
            f"{where}: a run='process' handler cannot take the request (not picklable)"
        )
    if plan.injected:
        names = ", ".join(name for name, _ in plan.injected)
        raise SignatureError(
            f"{where}: a run='process' handler cannot take {names} (not picklable)"
        )
    if any(spec.source == "file" for spec in plan.params):
        raise SignatureError(
            f"{where}: a run='process' handler cannot take uploaded files (open files do "
            "not pickle); read them in a def or async def handler and pass the bytes on"
        )


class CompiledRoute:
    """One route, ready to serve: `await route.handle(request)` gives its `Response`."""

    __slots__ = (
        "_dependencies",
        "_form_limits",
        "_overridden",
        "_overrides",
        "_read_whole",
        "_runner",
        "definition",
        "handle",
        "invoker",
        "label",
        "latencies",
        "max_body_size",
        "metrics",
        "plan",
        "render",
        "response_class",
        "response_model",
        "sets_response",
        "status_code",
        "stream_body",
        "template",
    )

    def __init__(
        self,
        definition: RouteDef,
        template: PathTemplate,
        engine: Engine,
        *,
        max_body_size: int,
        dependencies: Sequence[Any] = (),
        overrides: DependencyOverrides | None = None,
        uploads: UploadSettings | None = None,
        default_response_class: type[Response] | None = None,
    ) -> None:
        options = definition.options
        where = f"{'/'.join(sorted(definition.methods))} {definition.path}"
        for option, why in _NOT_YET.items():
            if options.get(option):
                raise ConfigurationError(f"{where}: {option}= is not supported yet: {why}")
        self.definition = definition
        self.template = template
        self.label = where
        #: The route's `ambi.metrics.RouteMetrics` with app.enable_metrics(), else None.
        self.metrics: Any = None
        #: `metrics.by_code` (status code -> the list its latency is appended to), kept
        #: here: one attribute less per measured request (`App._route_measured`).
        self.latencies: list[list[float]] = []
        # A `@cache` endpoint is a wrapper: the route runs what it wraps (the cache stage
        # answers hits before it).
        handler = route_handler(definition.endpoint)
        self.invoker = Invoker(handler, engine, options.get("run", "auto"), route=where)
        self._dependencies = (*dependencies, *options.get("dependencies", ()))
        self._overrides = overrides if overrides is not None else DependencyOverrides()
        self._overridden: tuple[int, DependencyRunner] | None = None
        self.plan: HandlerPlan = self._compile(None)
        if self.invoker.kind is ExecutionKind.PROCESS:
            _check_picklable_inputs(self.plan, where)
        self.response_model: ResponseModel | None = compile_response_model(
            definition.endpoint, options, where
        )
        self.status_code: int | None = options.get("status_code")
        response_class = options.get("response_class") or default_response_class
        if response_class is not None:
            response_class = check_response_class(response_class, where)
        #: The class results are rendered with (JSONResponse unless the route says).
        self.response_class: type[Response] = response_class or JSONResponse
        self.render = renderer_for(self.response_model, self.status_code, response_class)
        check_documentation(options, where)
        self.stream_body = bool(options.get("stream_body", False))
        if self.stream_body and (self.plan.body_params or self.plan.reads_form):
            raise SignatureError(
                f"{where}: a stream_body=True route reads the body itself; it cannot also "
                "declare body or form parameters"
            )
        #: The most bytes of body this route accepts (413 beyond).
        self.max_body_size = route_body_limit(options, max_body_size, self.plan, where)
        uploads = uploads or UploadSettings(max_body_size, None)
        self._form_limits = form_limits(self.plan, self.max_body_size, max_body_size, uploads)
        self._read_whole = not self.stream_body and self._form_limits is None
        self._runner: DependencyRunner | None = None
        if self.plan.dependencies:
            self._runner = DependencyRunner(self.plan, self.invoker, engine, where)
        #: A `response: Response` parameter somewhere in the graph (FastAPI's).
        self.sets_response = uses_sub_response(self.plan)
        self.handle: Next = self._core()

    def _compile(self, overrides: Mapping[Any, Any] | None) -> HandlerPlan:
        definition = self.definition
        return compile_plan(
            definition.endpoint,
            self.template.param_types(),
            where=self.label,
            dependencies=self._dependencies,
            overrides=overrides,
        )

    # The pipeline -------------------------------------------------------------------------

    def _core(self) -> Next:
        core = self._handling()
        if self._form_limits is not None:
            return functools.partial(_reading_form, self._form_limits, core)
        if self.stream_body:
            return functools.partial(self._streaming, core)
        return core

    def _handling(self) -> Next:
        if self._runner is not None:
            return self._with_dependencies
        if self.sets_response:
            return self._plain_sub_response
        plan = self.plan
        if plan.only_request:
            # PERF: handlers taking nothing or just the request skip building kwargs, and
            # the choice is made here rather than per request (GET /json in callgrind).
            return self._plain_request if plan.request_names else self._plain_bare
        return self._plain

    def freeze(self, factories: Sequence[StageFactory], app: App) -> None:
        """Put the pipeline together: the core wrapped in the stages this route uses."""
        handle = self._core()
        for factory in reversed(factories):
            stage = factory(self, app)
            if stage is None:
                continue
            if isinstance(stage, Wrapper):
                # PERF: the next handler bound once, not passed by a partial per request
                # (bench_security --callgrind: the rate-limit stage's cost per request).
                handle = stage.wrap(handle)
            else:
                handle = functools.partial(_staged, stage, handle)
        self.handle = handle

    def _streaming(self, core: Next, request: Request) -> Awaitable[Response]:
        request.limit_body(self.max_body_size)
        return core(request)

    async def _plain(self, request: Request) -> Response:
        if self._read_whole and request.has_body():  # PERF: see `Request.has_body`
            await request.read_body(self.max_body_size)
        return self.render(await self.invoker(**self.plan.extract(request)))

    async def _plain_request(self, request: Request) -> Response:
        if self._read_whole and request.has_body():  # PERF: see `Request.has_body`
            await request.read_body(self.max_body_size)
        return self.render(await self.invoker(request))

    async def _plain_bare(self, request: Request) -> Response:
        if self._read_whole and request.has_body():  # PERF: see `Request.has_body`
            await request.read_body(self.max_body_size)
        return self.render(await self.invoker())

    async def _plain_sub_response(self, request: Request) -> Response:
        if self._read_whole and request.has_body():  # PERF: see `Request.has_body`
            await request.read_body(self.max_body_size)
        result = await self.invoker(**self.plan.extract(request))
        return merge_sub_response(self.render(result), result, request)

    async def _with_dependencies(self, request: Request) -> Response:
        if self._read_whole and request.has_body():  # PERF: see `Request.has_body`
            await request.read_body(self.max_body_size)
        runner = self._runner
        if self._overrides:  # an override is set somewhere in the app
            runner = self._with_overrides()
        try:
            # PERF: the runner's own code, awaited here rather than in a coroutine of the
            # runner's (bench_instructions "GET /deps-sync").
            result = await runner.run(request)  # type: ignore[union-attr]
        except BaseException as exc:
            failed(request, exc)
            raise
        if request._response is not None:  # a `response: Response` parameter was used
            return merge_sub_response(self.render(result), result, request)
        return self.render(result)

    def _with_overrides(self) -> DependencyRunner:
        """The runner for the current overrides (recompiled once per change)."""
        overrides = self._overrides
        cached = self._overridden
        if cached is not None and cached[0] == overrides.version:
            return cached[1]
        plan = self._compile(dict(overrides))  # an override is itself a dependency
        runner = DependencyRunner(plan, self.invoker, self.invoker.engine, self.label)
        self._overridden = (overrides.version, runner)
        return runner

    def __repr__(self) -> str:
        return f"<CompiledRoute {sorted(self.definition.methods)} {self.definition.path}>"


__all__ = [
    "CompiledRoute",
    "DependencyOverrides",
    "Next",
    "Stage",
    "StageFactory",
    "StageOrder",
    "Wrapper",
    "to_response",
]
