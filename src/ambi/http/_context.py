"""The request being served, for code that is not handed it (`BackgroundTasks()` created
inside a handler, log records, `schedule_task`).

Set once per request by the app's dispatch; each request runs in its own task (and sync
code in the pool gets a copy of the context), so it never leaks between requests.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._request import Request

_current: ContextVar[Request | None] = ContextVar("ambi_request", default=None)
set_current_request = _current.set


def current_request() -> Request | None:
    """The request the calling code serves, or None outside a request."""
    return _current.get()
