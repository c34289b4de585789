"""A route's compiled pipeline: its stages, dependency runner, renderer and after-send work.

`CompiledRoute` (in `_route`) is built at registration and put together by
`App.freeze()`; `_deps` runs dependencies and the handler; `_after` runs background tasks
and dependency cleanup once the response has been sent; `_render` turns results into
responses; `_body` decides how a route reads its body and within which limits.
"""

from ._after import AfterResponse, after_response
from ._body import UploadSettings, upload_settings
from ._render import to_response
from ._route import (
    CompiledRoute,
    DependencyOverrides,
    Next,
    Stage,
    StageFactory,
    StageOrder,
    Wrapper,
)

__all__ = [
    "AfterResponse",
    "CompiledRoute",
    "DependencyOverrides",
    "Next",
    "Stage",
    "StageFactory",
    "StageOrder",
    "UploadSettings",
    "Wrapper",
    "after_response",
    "to_response",
    "upload_settings",
]
