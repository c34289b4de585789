"""A route compiled for serving: plan, invoker and result normalisation, built once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._signature import HandlerPlan, ResponseModel, compile_plan, compile_response_model
from .exceptions import SignatureError
from .execution import Engine, ExecutionKind, Invoker
from .http import JSONResponse, PlainTextResponse, Request, Response
from .routing import PathTemplate, RouteDef


def _json(result: Any, status_code: int | None) -> Response:
    return JSONResponse(result, status_code or 200)


def _text(result: Any, status_code: int | None) -> Response:
    return PlainTextResponse(result, status_code or 200)


def _octets(result: Any, status_code: int | None) -> Response:
    return Response(bytes(result), status_code or 200, media_type="application/octet-stream")


def _none(result: Any, status_code: int | None) -> Response:
    if status_code in (204, 304):
        return Response(b"", status_code)
    return JSONResponse(None, status_code or 200)


# PERF: one dict lookup on the result's exact type picks the common conversions.
_BY_TYPE: dict[type, Callable[[Any, int | None], Response]] = {
    dict: _json,
    list: _json,
    str: _text,
    bytes: _octets,
    bytearray: _octets,
    type(None): _none,
}


def to_response(result: Any, status_code: int | None = None) -> Response:
    """Turn whatever a handler returned into a `Response`.

    dict / list / pydantic model / dataclass -> JSON; str -> text/plain; bytes ->
    application/octet-stream; None -> JSON null (or an empty 204/304);
    `(content, status)` and `(content, status, headers)` tuples.
    """
    if isinstance(result, Response):
        return result
    convert = _BY_TYPE.get(type(result))
    if convert is not None:
        return convert(result, status_code)
    if isinstance(result, tuple):
        return _from_tuple(result, status_code)
    if isinstance(result, str):
        return _text(result, status_code)
    if isinstance(result, bytes | bytearray):
        return _octets(result, status_code)
    return _json(result, status_code)


def _from_tuple(result: tuple[Any, ...], status_code: int | None) -> Response:
    if len(result) not in (2, 3) or not isinstance(result[1], int):
        return JSONResponse(list(result), status_code or 200)
    response = to_response(result[0], result[1])
    response.status_code = result[1]
    if len(result) == 3 and result[2]:
        response.headers.update(result[2])
    return response


class CompiledRoute:
    """One route, ready to serve: `await route(request)` gives its `Response`."""

    __slots__ = (
        "definition",
        "invoker",
        "plan",
        "response_model",
        "status_code",
        "stream_body",
        "template",
    )

    def __init__(self, definition: RouteDef, template: PathTemplate, engine: Engine) -> None:
        options = definition.options
        where = f"{'/'.join(sorted(definition.methods))} {definition.path}"
        self.definition = definition
        self.template = template
        self.invoker = Invoker(definition.endpoint, engine, options.get("run", "auto"))
        self.plan: HandlerPlan = compile_plan(
            definition.endpoint, template.param_types(), where=where
        )
        if self.invoker.kind is ExecutionKind.PROCESS and self.plan.request_names:
            raise SignatureError(
                f"{where}: a run='process' handler cannot take the request (not picklable)"
            )
        self.response_model: ResponseModel | None = compile_response_model(
            definition.endpoint, options, where
        )
        self.status_code: int | None = options.get("status_code")
        self.stream_body = bool(options.get("stream_body", False))
        if self.stream_body and (self.plan.body_params or self.plan.reads_form):
            raise SignatureError(
                f"{where}: a stream_body=True route reads the body itself; it cannot also "
                "declare body or form parameters"
            )

    async def __call__(self, request: Request) -> Response:
        plan = self.plan
        if plan.only_request:
            # PERF: handlers taking nothing or just the request skip building kwargs.
            if plan.request_names:
                result = await self.invoker(request)
            else:
                result = await self.invoker()
        else:
            result = await self.invoker(**plan.extract(request))
        model = self.response_model
        if model is not None and not isinstance(result, (Response, tuple)):
            if result is None and self.status_code in (204, 304):
                return Response(b"", self.status_code)
            return model.render(result, self.status_code)
        return to_response(result, self.status_code)

    def __repr__(self) -> str:
        return f"<CompiledRoute {sorted(self.definition.methods)} {self.definition.path}>"
