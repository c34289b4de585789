"""HTTP objects: the request, responses, headers, cookies, forms, uploads and websockets."""

from ._formdata import FormData
from ._headers import Headers, MutableHeaders, QueryParams
from ._multipart import FormLimits
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
from ._sse import EventSourceResponse, ServerSentEvent
from ._upload import UploadFile, safe_filename
from ._websocket import WebSocket, WebSocketState, WebSocketTransport

__all__ = [
    "URL",
    "EventSourceResponse",
    "FileResponse",
    "FormData",
    "FormLimits",
    "HTMLResponse",
    "Headers",
    "JSONResponse",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "ServerSentEvent",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketState",
    "WebSocketTransport",
    "dump_json",
    "safe_filename",
]
