"""`app.enable_logging()`: one access-log line per request.

Each line carries the method, path, route template, status, duration (until the response
is ready to send: for a streamed body, until its headers), the handler's kind (`sync`,
`async`, `inline`, `process`; `-` when no route matched), the request id (with
`enable_request_id()`) and the client address. `format="plain"`:

    127.0.0.1:50000 "GET /items/42" 200 1.84ms route=/items/{item_id} kind=async id=9f0c...

`format="json"` logs the same fields as one JSON object. The fields are also on the log
record as `record.access` (a dict) for structured handlers. Lines go to the `ambi.access`
logger at INFO; when nothing anywhere handles that logger at startup, ambi gives it a
handler writing to stderr, so the one call is enough to see them. Off (not enabled), it
is not in the chain at all.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Literal

import orjson

from ..exceptions import ConfigurationError
from ..execution import ExecutionKind
from ..http import Request, Response
from ..servers._types import ClientDisconnected
from ._builtin import Builtin
from ._chain import Next
from ._request_id import request_id

if TYPE_CHECKING:
    from ..app import App

_KINDS = {
    ExecutionKind.ASYNC: "async",
    ExecutionKind.THREAD: "sync",
    ExecutionKind.INLINE: "inline",
    ExecutionKind.PROCESS: "process",
}
#: What the access log records for a client that went away before the response.
CLIENT_GONE = 499


def access_fields(request: Request, status: int, seconds: float) -> dict[str, Any]:
    route = request.route
    client = request.client
    return {
        "method": request.method,
        "path": request.path,
        "route": route.definition.path if route is not None else None,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "handler_kind": _KINDS[route.invoker.kind] if route is not None else None,
        "request_id": request_id(),
        "client": f"{client[0]}:{client[1]}" if client else None,
    }


def _plain(fields: dict[str, Any]) -> str:
    line = (
        f'{fields["client"] or "-"} "{fields["method"]} {fields["path"]}" {fields["status"]} '
        f"{fields['duration_ms']:.2f}ms route={fields['route'] or '-'} "
        f"kind={fields['handler_kind'] or '-'}"
    )
    rid = fields["request_id"]
    return f"{line} id={rid}" if rid else line


def _json(fields: dict[str, Any]) -> str:
    return orjson.dumps(fields).decode()


class AccessLog(Builtin):
    def __init__(
        self,
        format: Literal["plain", "json"] = "plain",
        *,
        logger: str | logging.Logger = "ambi.access",
        level: int = logging.INFO,
    ) -> None:
        if format not in ("plain", "json"):
            raise ConfigurationError(
                f'enable_logging: format must be "plain" or "json": {format!r}'
            )
        if isinstance(level, bool) or not isinstance(level, int):
            raise ConfigurationError(f"enable_logging: level must be a logging level: {level!r}")
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        elif not isinstance(logger, logging.Logger):
            raise ConfigurationError(
                f"enable_logging: logger must be a name or a Logger: {logger!r}"
            )
        self.logger = logger
        self.level = level
        self.render = _plain if format == "plain" else _json

    def _ensure_output(self) -> None:
        """One call is enough to see the lines: if no handler anywhere would take them,
        write them to stderr."""
        logger = self.logger
        if logger.getEffectiveLevel() > self.level:
            logger.setLevel(self.level)
        if not logger.hasHandlers():
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)

    def layer(self, app: App, call_next: Next) -> Next:
        self._ensure_output()
        logger, level, render = self.logger, self.level, self.render
        clock = time.perf_counter

        def log(request: Request, status: int, started: float) -> None:
            fields = access_fields(request, status, clock() - started)
            logger.log(level, render(fields), extra={"access": fields})

        async def access_log(request: Request) -> Response:
            if not logger.isEnabledFor(level):
                return await call_next(request)
            started = clock()
            try:
                response = await call_next(request)
            except ClientDisconnected:
                log(request, CLIENT_GONE, started)
                raise
            log(request, response.status_code, started)
            return response

        return access_log
