"""The response classes, under the module name FastAPI programs import them from
(`from ambi.responses import HTMLResponse, ORJSONResponse`).

`ORJSONResponse` is `JSONResponse`: ambi's JSON already goes through orjson (with
`OPT_NON_STR_KEYS | OPT_SERIALIZE_NUMPY`, as FastAPI's `ORJSONResponse`). `UJSONResponse`
renders with ujson (`pip install 'ambi[ujson]'`); naming it as a route's
`response_class` without ujson installed is refused at registration.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .http import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
    "ujson_available",
]

ORJSONResponse = JSONResponse


def ujson_available() -> bool:
    """Whether ujson is installed (`UJSONResponse` needs it)."""
    return importlib.util.find_spec("ujson") is not None


class UJSONResponse(JSONResponse):
    """JSON rendered by ujson (FastAPI's `UJSONResponse`): `ensure_ascii=False`, UTF-8."""

    def render(self, content: Any) -> bytes:
        import ujson

        text: str = ujson.dumps(content, ensure_ascii=False)
        return text.encode("utf-8")
