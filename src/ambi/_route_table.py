"""The table `ambi routes TARGET` prints: every route and mount of an app, in the order
they were registered.

KIND says where the handler runs: `async` (the event loop), `sync` (the thread pool),
`inline` (on the loop, as asked) or `process` (the process pool); `(auto)` marks a kind
ambi chose from the handler itself rather than from `run=`. Websocket routes follow the
HTTP ones, with the method `WEBSOCKET` (their handlers are `async def`: kind `async`).
A mount is listed with the kind `mount` and the path it takes everything under; a
mounted ambi app's HTTP routes are listed under it (mounts serve no websockets).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .execution import ExecutionKind, classify

if TYPE_CHECKING:
    from .app import App

__all__ = ["Row", "format_table", "route_rows"]

HEADINGS = ("METHODS", "PATH", "HANDLER", "KIND", "GUARDS")

_KIND_NAMES = {
    ExecutionKind.ASYNC: "async",
    ExecutionKind.THREAD: "sync",
    ExecutionKind.INLINE: "inline",
    ExecutionKind.PROCESS: "process",
}


class Row(NamedTuple):
    methods: str
    path: str
    handler: str
    kind: str
    guards: str


def _name(obj: Any) -> str:
    """`module.qualname` of a function or class; the type's name for other objects."""
    target: Callable[..., Any] | type = obj if hasattr(obj, "__qualname__") else type(obj)
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", repr(obj))
    return f"{module}.{qualname}" if module and module != "builtins" else qualname


def _kind(endpoint: Callable[..., Any], run: str) -> str:
    kind = _KIND_NAMES[classify(endpoint, run)]
    return f"{kind} (auto)" if run == "auto" else kind


def _guards(guards: Sequence[Any]) -> str:
    return ", ".join(_name(guard).rpartition(".")[2] for guard in guards) or "-"


def route_rows(app: App, prefix: str = "", *, websockets: bool = True) -> list[Row]:
    """One row per route, then per websocket route, then the mounts: the HTTP routes of a
    mounted ambi app under its mount path, one row for any other mounted app."""
    rows = [
        Row(
            ", ".join(sorted(route.methods)),
            prefix + route.path,
            _name(route.endpoint),
            _kind(route.endpoint, route.options.get("run", "auto")),
            _guards([*app.guards, *route.options.get("guards", ())]),
        )
        for route in app.routes
    ]
    if websockets:
        rows.extend(
            Row(
                "WEBSOCKET",
                prefix + route.path,
                _name(route.endpoint),
                "async",
                _guards([*app.guards, *route.options.get("guards", ())]),
            )
            for route in getattr(app, "websocket_routes", ())
        )
    for mount in app._mounts:
        if mount.kind == "app":
            rows.extend(route_rows(mount.app, prefix + mount.prefix, websockets=False))
            continue
        target = repr(mount.app) if mount.kind == "native" else _name(mount.app)
        rows.append(Row("*", f"{prefix}{mount.prefix}/...", target, "mount", "-"))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """The rows as aligned columns under a heading line."""
    table = [HEADINGS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADINGS))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in table
    )
    return "\n".join(line.rstrip() for line in lines)
