"""Handler statistics: how many handlers of each execution kind, and each route's kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..execution import ExecutionKind

if TYPE_CHECKING:
    from ..app import App

#: The kinds that run sync code (`def` handlers): in the pool, in a process or inline.
_SYNC_KINDS = (ExecutionKind.THREAD, ExecutionKind.INLINE, ExecutionKind.PROCESS)


def handler_stats(app: App) -> dict[str, Any]:
    """`app.handler_stats()`: counts by execution kind over the app's HTTP routes.

    `total_handlers`, `sync_handlers` and `async_handlers` use the names of Catzilla's
    seed; `by_kind` splits the sync ones by where they run (`thread`, `inline`,
    `process`); `routes` lists each route with its handler and kind.
    """
    by_kind = dict.fromkeys((kind.value for kind in ExecutionKind), 0)
    routes: list[dict[str, Any]] = []
    for route in app.compiled:
        kind = route.invoker.kind
        by_kind[kind.value] += 1
        routes.append(
            {
                "path": route.definition.path,
                "methods": sorted(route.definition.methods),
                "handler": route.invoker.name,
                "kind": kind.value,
            }
        )
    return {
        "total_handlers": len(routes),
        "sync_handlers": sum(by_kind[kind.value] for kind in _SYNC_KINDS),
        "async_handlers": by_kind[ExecutionKind.ASYNC.value],
        "by_kind": by_kind,
        "routes": routes,
    }
