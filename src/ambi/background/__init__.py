"""Background work: `BackgroundTasks` runs after the response of one request."""

from ._request import BackgroundTasks

__all__ = ["BackgroundTasks"]
