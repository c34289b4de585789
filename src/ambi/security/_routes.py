"""What the security features need to know about a route when the app starts: whether it
is one of the framework's own (the OpenAPI document, the docs pages), and whether a set of
paths and path prefixes (`exclude=`, `exempt=`) covers it."""

from __future__ import annotations

import enum
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..app import App

__all__ = ["Coverage", "PathSet", "is_framework_route"]

#: app -> (number of user routes when computed, ids of the user routes)
_user_routes: weakref.WeakKeyDictionary[App, tuple[int, frozenset[int]]] = (
    weakref.WeakKeyDictionary()
)


def is_framework_route(route: CompiledRoute, app: App) -> bool:
    """True for the routes ambi adds itself (`/openapi.json`, `/docs`, their assets)."""
    known = _user_routes.get(app)
    if known is None or known[0] != len(app.compiled):
        known = (len(app.compiled), frozenset(map(id, app.compiled)))
        _user_routes[app] = known
    return id(route) not in known[1]


class Coverage(enum.Enum):
    """Whether a set of paths covers a route, decided from its path template."""

    NONE = "none"  # no request to the route is covered
    ALL = "all"  # every request to the route is covered
    SOME = "some"  # it depends on the request's path (checked per request)


class PathSet:
    """Paths and path prefixes: `"/login"` is that path only; `"/public/"` and
    `"/public/*"` are prefixes (every path starting with `/public/`)."""

    __slots__ = ("exact", "prefixes")

    def __init__(self, paths: Iterable[str], option: str) -> None:
        if isinstance(paths, str):
            raise ConfigurationError(f"{option} takes a list of paths, not the string {paths!r}")
        exact: set[str] = set()
        prefixes: list[str] = []
        for path in paths:
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigurationError(f"{option}: {path!r} is not a path starting with '/'")
            if path.endswith("*"):
                prefixes.append(path[:-1])
            elif path.endswith("/") and path != "/":
                prefixes.append(path)
            else:
                exact.add(path)
        self.exact = frozenset(exact)
        self.prefixes = tuple(prefixes)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def matches(self, path: str) -> bool:
        """Whether the request path `path` is in the set."""
        return path in self.exact or path.startswith(self.prefixes)

    def covers(self, template: str) -> Coverage:
        """Whether the requests a route with path `template` serves are in the set: known
        from the template alone unless a path in the set falls inside its parameters."""
        head, brace, _ = template.partition("{")
        if not brace:  # a static path
            return Coverage.ALL if self.matches(template) else Coverage.NONE
        if head.startswith(self.prefixes):
            return Coverage.ALL
        if any(p.startswith(head) for p in (*self.exact, *self.prefixes)):
            return Coverage.SOME
        return Coverage.NONE
