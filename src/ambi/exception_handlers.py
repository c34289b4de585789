"""The default error responses, as FastAPI's `fastapi.exception_handlers`.

A custom exception handler can log, then hand over to the default answer::

    from ambi.exception_handlers import http_exception_handler

    @app.exception_handler(HTTPException)
    async def log_and_answer(request, exc):
        logger.warning("%s %s: %s", request.method, request.path, exc.detail)
        return await http_exception_handler(request, exc)

`http_error_response` is what the app itself sends for an `HTTPException` it has no
handler for (the one place HTTP errors become responses).
"""

from __future__ import annotations

from typing import Any

from .encoders import jsonable_encoder
from .exceptions import HTTPException, RequestValidationError
from .http import JSONResponse, Request, Response

__all__ = [
    "http_error_response",
    "http_exception_handler",
    "request_validation_exception_handler",
]


def _body_allowed(status_code: int) -> bool:
    return not (status_code < 200 or status_code in (204, 205, 304))


def http_error_response(exc: HTTPException) -> Response:
    """The response for `exc`: `{"detail": ...}` (the error list of a 422) with its
    headers; no body for a status that has none (1xx, 204, 205, 304)."""
    headers = exc.headers or None
    if not _body_allowed(exc.status_code):
        return Response(b"", exc.status_code, headers)
    detail: Any = exc.errors() if isinstance(exc, RequestValidationError) else exc.detail
    return JSONResponse({"detail": detail}, exc.status_code, headers)


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """FastAPI's default answer to an `HTTPException`."""
    return http_error_response(exc)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    """FastAPI's default answer to a `RequestValidationError`: 422 with its errors."""
    return JSONResponse({"detail": jsonable_encoder(exc.errors())}, 422)
