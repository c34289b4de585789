"""Static files: `StaticFiles`, mounted with `app.mount(...)` or `app.mount_static(...)`."""

from ._files import StaticFiles, StaticOptions
from ._response import StaticFileResponse

__all__ = ["StaticFileResponse", "StaticFiles", "StaticOptions"]
