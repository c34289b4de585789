"""HTTP objects: the request, responses, headers, cookies, forms and uploads."""

from ._headers import Headers, MutableHeaders, QueryParams
from ._multipart import FormData, UploadFile
from ._request import URL, Request, State
from ._responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    dump_json,
)

__all__ = [
    "URL",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "Headers",
    "JSONResponse",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "State",
    "StreamingResponse",
    "UploadFile",
    "dump_json",
]
