"""FastAPI's `response: Response` parameter: a handler (or a dependency) sets headers,
cookies and the status code on the response ambi renders from its result.

Every callable of one request asking for it gets the same `Response` object (status
`None` until set). When the handler returns a value, the rendered response takes that
object's status code (if one was set: it wins over the route's `status_code=`) and its
headers are added to the rendered ones; a handler that returns a `Response` itself sends
that one unchanged, as FastAPI does.
"""

from __future__ import annotations

from typing import Any

from .._signature import HandlerPlan, register_injectable
from ..http import Request, Response


def sub_response(request: Request) -> Response:
    """The request's shared `Response` parameter (made on first use)."""
    sub: Response | None = request._response
    if sub is None:
        sub = Response()
        sub.status_code = None  # type: ignore[assignment]  # FastAPI's "not set"
        request._response = sub
    return sub


def merge_sub_response(response: Response, result: Any, request: Request) -> Response:
    """`response` (rendered from `result`) with what the handler set on its `Response`
    parameter; unchanged when the handler returned a `Response` itself."""
    sub: Response | None = request._response
    if sub is None or isinstance(result, Response):
        return response
    if sub.status_code:
        response.status_code = sub.status_code
    for name, value in sub.headers.items_list:
        response.headers.add(name, value)
    status = response.status_code
    if status < 200 or status in (204, 205, 304):
        response.body = b""  # no body for these (FastAPI: is_body_allowed_for_status_code)
    return response


def uses_sub_response(plan: HandlerPlan) -> bool:
    """Whether the handler or one of its dependencies takes a `Response` parameter."""
    return any(
        factory is sub_response
        for call in (plan.handler, *plan.dependencies)
        for _, factory in call.injected
    )


register_injectable(Response, sub_response)
