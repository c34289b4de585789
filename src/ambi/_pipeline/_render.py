"""Result rendering: whatever a handler returned, made into a `Response`.

`to_response` is the default; a route's `response_class=` or response model picks a
renderer once, at compile time (`renderer_for`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from .._signature import ResponseModel
from ..encoders import jsonable_encoder
from ..exceptions import ConfigurationError
from ..http import JSONResponse, PlainTextResponse, Response
from ..responses import UJSONResponse, ujson_available

Renderer = Callable[[Any], Response]


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


def check_response_class(cls: Any, where: str) -> type[Response]:
    """`cls` if it is a `Response` subclass that can render; `ConfigurationError`
    otherwise."""
    if not (inspect.isclass(cls) and issubclass(cls, Response)):
        raise ConfigurationError(
            f"{where}: response_class must be a Response subclass, not {cls!r}"
        )
    if issubclass(cls, UJSONResponse) and not ujson_available():
        raise ConfigurationError(f"{where}: UJSONResponse needs ujson (pip install 'ambi[ujson]')")
    return cls


def renderer_for(
    model: ResponseModel | None, status_code: int | None, response_class: type[Response] | None
) -> Renderer:
    """The function turning this route's results into responses, chosen once."""
    if response_class is None or response_class is JSONResponse:
        if model is None:
            # PERF: no wrapper call between the route and the conversion.
            return (
                to_response
                if status_code is None
                else partial(to_response, status_code=status_code)
            )
        return _model_renderer(model, status_code)
    return _class_renderer(model, status_code, response_class)


def _model_renderer(model: ResponseModel, status_code: int | None) -> Renderer:
    loose, status = model.loose, status_code or 200

    def render(result: Any) -> Response:
        if type(result) is loose:
            # PERF: `-> dict[str, Any]` checks only the container: sent as any dict is,
            # in this one call (GET /json in callgrind instruction counts).
            return JSONResponse(result, status)
        if isinstance(result, Response | tuple):
            return to_response(result, status_code)
        if result is None and status_code in (204, 304):
            return Response(b"", status_code)
        return model.render(result, status_code)

    return render


def _class_renderer(
    model: ResponseModel | None, status_code: int | None, cls: type[Response]
) -> Renderer:
    """Results rendered by `cls(content[, status_code])`, as FastAPI's `response_class`:
    the content is the result made JSON-compatible (`jsonable_encoder`), or validated
    and filtered by the response model when there is one."""

    def render(result: Any) -> Response:
        if isinstance(result, Response | tuple):
            return to_response(result, status_code)
        content = jsonable_encoder(result) if model is None else model.jsonable(result)
        if status_code is None:
            return cls(content)
        return cls(content, status_code)

    return render
