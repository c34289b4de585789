"""Handler signatures and their dependency graphs compiled into plans: argument sources
and one validator; and the response model that checks and filters what a handler returns.

Modules: `_annotations` (reading types), `_sources` (getters per input source),
`_errors` (422 bodies), `_plan` (the runtime plan), `_compile` (the compiler),
`_response` (response models).
"""

from ._annotations import type_hints
from ._compile import compile_plan, register_injectable
from ._plan import CallPlan, HandlerPlan, ParamSpec
from ._response import ResponseModel, compile_response_model
from ._sources import BODY_FIELD, UploadFileType, is_json_media, reads_as_bytes

__all__ = [
    "BODY_FIELD",
    "CallPlan",
    "HandlerPlan",
    "ParamSpec",
    "ResponseModel",
    "UploadFileType",
    "compile_plan",
    "compile_response_model",
    "is_json_media",
    "reads_as_bytes",
    "register_injectable",
    "type_hints",
]
