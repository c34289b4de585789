"""Paths that no route takes as they are: the trailing-slash redirect and `root_path`.

A request for `/items` when only `/items/` exists (or the reverse) is answered with a 307
redirect to the other spelling (query string kept), as Starlette's `redirect_slashes`
does; 307 keeps the method and body. It is on by default and set per app
(`App(redirect_slashes=False)`), per router (`Router(redirect_slashes=...)`, for its
routes) or per route (`redirect_slashes=`); the setting of the route the other spelling
reaches decides. Mounts come first: a path under a mount is the mount's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .exceptions import ConfigurationError
from .http import RedirectResponse, Request, Response
from .routing import Match, Matcher, MethodNotAllowed

if TYPE_CHECKING:
    from ._pipeline import CompiledRoute


def check_root_path(root_path: Any) -> str:
    """`root_path` if it is "" or a path starting and not ending with '/'."""
    if not isinstance(root_path, str) or (
        root_path and (not root_path.startswith("/") or root_path.endswith("/"))
    ):
        raise ConfigurationError(
            f"root_path {root_path!r} must be '' or start and not end with '/' (e.g. '/api/v1')"
        )
    return root_path


def _route_at(matcher: Matcher[CompiledRoute], method: str, path: str) -> CompiledRoute | None:
    found = matcher.match(method, path)
    if isinstance(found, MethodNotAllowed):  # the path exists: any of its routes will do
        found = matcher.match(sorted(found.allowed)[0], path)
    return found.value if isinstance(found, Match) else None


def slash_redirect(
    matcher: Matcher[CompiledRoute], request: Request, app_default: bool
) -> Response | None:
    """The 307 to `request.path` with its trailing slash added or taken off, when a route
    takes that path and allows the redirect; None otherwise."""
    path = request.path
    if path == "/":
        return None
    other = path[:-1] if path.endswith("/") else path + "/"
    route = _route_at(matcher, request.method, other)
    if route is None or not route.definition.options.get("redirect_slashes", app_default):
        return None
    url = request.url
    query = f"?{request.query_string}" if request.query_string else ""
    location = f"{url.scheme}://{url.netloc}{quote(request.root_path + other)}{query}"
    return RedirectResponse(location, 307)
