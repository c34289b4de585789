"""Handler signatures compiled into plans: argument sources and one validator; and the
response model that checks and filters what a handler returns."""

from ._plan import HandlerPlan, ParamSpec, compile_plan, is_json_media, register_injectable
from ._response import ResponseModel, compile_response_model

__all__ = [
    "HandlerPlan",
    "ParamSpec",
    "ResponseModel",
    "compile_plan",
    "compile_response_model",
    "is_json_media",
    "register_injectable",
]
