"""The service's routes, one module per concern."""

from . import accounts, files, insight, projects, tasks

__all__ = ["accounts", "files", "insight", "projects", "tasks"]
