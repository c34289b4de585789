"""`app.enable_request_id()`: one id per request, taken from `X-Request-ID` when the
client sent a valid one (at most 128 characters of `A-Z a-z 0-9 - _ . : + / =`),
otherwise generated; echoed on the response, and readable anywhere while the request is
served (handlers, dependencies, the thread pool, log records) through a contextvar:
`ambi.middleware.request_id()`, and `RequestIdFilter` for logging handlers.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError
from ..http import Request, Response
from ._builtin import Builtin
from ._chain import Next
from ._headers import put_headers, request_header

if TYPE_CHECKING:
    from ..app import App

MAX_LENGTH = 128
_VALID = re.compile(r"[A-Za-z0-9._:+/=-]{1,%d}" % MAX_LENGTH)  # noqa: UP031
_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

_current: ContextVar[str | None] = ContextVar("ambi_request_id", default=None)


def request_id() -> str | None:
    """The id of the request being served (None outside a request, or when
    `enable_request_id()` is off)."""
    return _current.get()


class _RandomIds:
    """32 random hex digits per call, from the OS's random source.

    # PERF: one os.urandom call per 256 ids instead of one per id (a system call: 1.2 us
    # each on the benchmark machine, where slicing and hex take 0.3 us; bench_instructions).
    The pool is dropped in a forked child, so workers never share ids.
    """

    __slots__ = ("at", "pool")

    def __init__(self) -> None:
        self.pool = b""
        self.at = 0

    def __call__(self) -> str:
        at = self.at
        if at >= len(self.pool):
            self.pool = os.urandom(4096)
            at = 0
        self.at = at + 16
        return self.pool[at : at + 16].hex()

    def forget(self) -> None:
        self.pool = b""
        self.at = 0


new_request_id = _RandomIds()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=new_request_id.forget)


class RequestIdFilter(logging.Filter):
    """A logging filter that puts the current request id on every record as
    `record.request_id` ("-" outside a request): `handler.addFilter(RequestIdFilter())`,
    then use `%(request_id)s` in the format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


class RequestId(Builtin):
    def __init__(
        self, header: str = "X-Request-ID", generator: Callable[[], str] | None = None
    ) -> None:
        if not isinstance(header, str) or not _HEADER.match(header):
            raise ConfigurationError(f"enable_request_id: {header!r} is not a header name")
        if generator is not None and not callable(generator):
            raise ConfigurationError(f"enable_request_id: generator {generator!r} is not callable")
        self.header = header.lower()
        self.generator = generator or new_request_id

    def layer(self, app: App, call_next: Next) -> Next:
        header = self.header
        names = frozenset({header})
        generate = self.generator
        valid = _VALID.fullmatch
        set_id = _current.set

        async def request_id_layer(request: Request) -> Response:
            index = request._header_dict  # PERF: `request_header`, inlined for a dict
            given = index.get(header) if index is not None else request_header(request, header)
            rid = given if given is not None and valid(given) else generate()
            set_id(rid)
            response = await call_next(request)
            put_headers(response.headers, [(header, rid)], names)
            return response

        return request_id_layer
