"""Every exception ambi raises, in one tree.

```
AmbiError
 +-- ConfigurationError            a mistake in how the app is put together; raised at
 |    |                            registration or startup, never at the first request
 |    +-- RouteConflictError       two routes claim the same method and path shape
 |    +-- SignatureError           a handler's signature cannot be served
 |    +-- TargetError              `ambi run TARGET` names nothing that can be served
 +-- BridgeError                   smartasync / run_sync used where it cannot work
 +-- NoMatchFound                  `url_path_for(name, **params)` names no route that takes
 |                                 those parameters (also a LookupError)
 +-- StoreError                    a state store (Redis...) is unreachable, timed out, or
 |                                 refused a command; the cache fails open on it
 +-- ResponseValidationError       a handler's result does not match its response model
 |                                 (a server bug: logged, answered with a 500)
 +-- ClientDisconnected            the client went away before its whole request body
 |                                 arrived: nobody to answer (dropped quietly)
 +-- HTTPException                 becomes an HTTP response (status, detail, headers)
 |    +-- RequestValidationError   422: the request does not match the handler's plan
 |    +-- IncompleteBody           400: the request body broke off or its framing is
 |    |                            malformed (the handler never takes it as complete)
 |    +-- BodyTimeout              408: the client sent no body data for `body_timeout`
 |    +-- TaskQueueUnavailable     503: a task could not be queued (`app.add_task`)
 |         +-- QueueFull           the app's task queue holds its `max_queued` tasks
 |         +-- QueueClosed         the app's task queue is shut down
 +-- WebSocketDisconnect           the websocket connection is over (the client left, or
 |                                 ambi closed it: message too big, wrong kind of data)
 +-- WebSocketException            raised by a websocket handler: close with (code, reason)
```

HTTP errors become responses in exactly one place: `ambi.app.App` (through its exception
handler table); websocket errors become close frames in one place too
(`ambi._websocket_route`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

__all__ = [
    "AmbiError",
    "BodyTimeout",
    "BridgeError",
    "ClientDisconnected",
    "ConfigurationError",
    "HTTPException",
    "IncompleteBody",
    "NoMatchFound",
    "QueueClosed",
    "QueueFull",
    "RequestValidationError",
    "ResponseValidationError",
    "RouteConflictError",
    "SignatureError",
    "StoreError",
    "TargetError",
    "TaskQueueUnavailable",
    "WebSocketDisconnect",
    "WebSocketException",
]


class AmbiError(Exception):
    """Base class of every exception ambi defines."""


class ConfigurationError(AmbiError):
    """The application is put together in a way that cannot work."""


class RouteConflictError(ConfigurationError):
    """Two routes claim the same method and path shape."""


class SignatureError(ConfigurationError):
    """A handler's (or dependency's) signature cannot be served."""


class TargetError(ConfigurationError):
    """The TARGET argument of `ambi run` names nothing that can be served."""


class BridgeError(AmbiError):
    """Sync/async bridging was asked for where it cannot work (see `ambi.bridge`)."""


class ClientDisconnected(AmbiError):
    """The client went away before the whole request body arrived.

    Raised by the server adapters' body readers; nobody is left to answer, so the adapter
    drops the request quietly (a debug-level log line at most), and the layers between
    let it pass instead of turning it into an error response.
    """


class NoMatchFound(AmbiError, LookupError):
    """`url_path_for(name, **params)`: no route or mount of that name takes those parameters."""


class StoreError(AmbiError):
    """A state store could not do what was asked: unreachable, timed out, or refused the
    command (see `ambi.stores`). Callers decide: the response cache serves uncached, a
    session answers 503."""


class ResponseValidationError(AmbiError):
    """A handler returned something its response model rejects: a bug in the server.

    `errors()` is pydantic's error list (a method, as FastAPI's), `body` what the handler
    returned. The app logs it and answers 500, never 422.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        self._errors = [dict(e) for e in errors]
        self.body = body
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or '<result>'}: {e.get('msg')}"
            for e in self._errors[:5]
        )
        super().__init__(f"the response does not match its response model: {summary}")

    def errors(self) -> list[dict[str, Any]]:
        """The error list (pydantic's shape)."""
        return self._errors


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


class HTTPException(AmbiError):
    """An error that is answered with an HTTP response.

    `detail` is any JSON-serialisable value; it defaults to the status phrase.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = _reason(status_code) if detail is None else detail
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(status_code, self.detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestValidationError(HTTPException):
    """422: the request does not match what the handler declared.

    `errors()` (a method, as FastAPI's) gives pydantic's error list, with `loc` starting
    at the source (`"query"`, `"path"`, `"header"`, `"cookie"`, `"body"`); `body` is the
    body as received: the decoded JSON, the form, the text of a body that is not valid
    JSON, or None.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        self._errors = [dict(e) for e in errors]
        self.body = body
        super().__init__(422, self._errors)

    def errors(self) -> list[dict[str, Any]]:
        """The error list, as the 422 response's `detail` carries it."""
        return self._errors


class WebSocketDisconnect(AmbiError):
    """The websocket connection is over: raised by `receive_*` / `iter_*` when the client
    has gone (and by sends to a client that has gone), and when ambi closed the connection
    for the handler (a message over the size limit: 1009; text where bytes were expected or
    the reverse: 1003; JSON that does not parse: 1007).

    `code` is the close code (1005, "no code", when the server interface does not report
    one), `reason` its text. Catching it is how a handler cleans up after a client.
    """

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class WebSocketException(AmbiError):
    """Raise it in a websocket handler (or what it calls) to close the connection with
    `code` and `reason` (before `accept()`, the handshake is refused instead)."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class IncompleteBody(HTTPException):
    """400: the request body did not arrive whole: it broke off, or its chunked framing is
    malformed (a bad chunk size, more data than the size said). Raised by the body readers
    instead of ending the body early, so a handler never sees a short body as complete."""

    def __init__(self, detail: str = "request body incomplete or malformed") -> None:
        super().__init__(400, detail, {"connection": "close"})


class BodyTimeout(HTTPException):
    """408: no request body data arrived for `App(body_timeout=...)` seconds."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408, f"request body timed out: no data for {seconds:g} s", {"connection": "close"}
        )


class TaskQueueUnavailable(HTTPException):
    """503: a task could not be queued. Raised by `app.add_task` / `schedule_task` to the
    caller; a route that lets it propagate answers 503 with `Retry-After`."""

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(503, detail, {"retry-after": str(retry_after)})


class QueueFull(TaskQueueUnavailable):
    """The app's task queue already holds `max_queued` tasks waiting to run."""


class QueueClosed(TaskQueueUnavailable):
    """The app's task queue is shut down (the app is stopping)."""
