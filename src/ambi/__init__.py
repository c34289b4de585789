"""ambi: a Python web framework in which `def` and `async def` are equals."""

from . import status
from .app import App
from .background import BackgroundTasks
from .bridge import run_sync, smartasync
from .cache import cache, invalidate
from .encoders import jsonable_encoder
from .exceptions import (
    AmbiError,
    BridgeError,
    ConfigurationError,
    HTTPException,
    NoMatchFound,
    RequestValidationError,
    ResponseValidationError,
    RouteConflictError,
    SignatureError,
    StoreError,
    WebSocketDisconnect,
    WebSocketException,
)
from .execution import ExecutionKind
from .http import (
    EventSourceResponse,
    FileResponse,
    FormData,
    Headers,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    QueryParams,
    RedirectResponse,
    Request,
    Response,
    ServerSentEvent,
    State,
    StreamingResponse,
    UploadFile,
    WebSocket,
    WebSocketState,
)
from .metrics import get_handler_stats, get_performance_metrics
from .params import (
    BaseModel,
    Body,
    Cookie,
    Depends,
    Field,
    File,
    Form,
    Header,
    Path,
    Query,
    Security,
)
from .ratelimit import RateLimitConfig
from .routing import APIRoute, APIRouter, Router
from .static import StaticFiles

__version__ = "0.1.0"

__all__ = [
    "APIRoute",
    "APIRouter",
    "AmbiError",
    "App",
    "BackgroundTasks",
    "BaseModel",
    "Body",
    "BridgeError",
    "ConfigurationError",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "ExecutionKind",
    "Field",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "JSONResponse",
    "NoMatchFound",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RateLimitConfig",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "ResponseValidationError",
    "RouteConflictError",
    "Router",
    "Security",
    "ServerSentEvent",
    "SignatureError",
    "State",
    "StaticFiles",
    "StoreError",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketState",
    "__version__",
    "cache",
    "get_handler_stats",
    "get_performance_metrics",
    "invalidate",
    "jsonable_encoder",
    "run_sync",
    "smartasync",
    "status",
]
