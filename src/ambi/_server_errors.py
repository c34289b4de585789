"""Unhandled errors answered with a 500, reported to whoever asked to see them.

`TestClient(raise_server_exceptions=True)` (the default, as Starlette's) collects the
errors of the request it sends and raises the first one in the test; outside a test
client nothing is collecting and reporting costs one context-variable read, on the error
path only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_collector: ContextVar[list[BaseException] | None] = ContextVar("ambi_server_errors", default=None)


@contextmanager
def collect_server_errors() -> Iterator[list[BaseException]]:
    """The errors answered with a 500 while the block runs (in this context)."""
    errors: list[BaseException] = []
    token = _collector.set(errors)
    try:
        yield errors
    finally:
        _collector.reset(token)


def report_server_error(exc: BaseException) -> None:
    """Hand `exc` (answered with a 500) to the test client collecting, if any."""
    errors = _collector.get()
    if errors is not None:
        errors.append(exc)
