"""Paths from names: `app.url_path_for("get_item", item_id=3)`, and `url_for` in templates.

A route's name is its `name=` option or its handler's `__name__`; a mount's name is the one
given to `mount()`: `url_path_for("static", path="css/site.css")`. A route of an ambi app
mounted under the name `api` is `"api:route_name"`. When several routes share a name, the
first whose parameters are exactly those given wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .exceptions import NoMatchFound
from .routing import PathTemplate, RouteDef, parse_template

if TYPE_CHECKING:
    from ._mount import Mount, Mounts

#: Characters a path segment may hold as they are (RFC 3986 pchar, less the percent sign).
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


def _fill(template: PathTemplate, params: dict[str, Any]) -> str | None:
    """`template` with `params` put in, or None if they do not fit it."""
    if set(template.param_names) != set(params):
        return None
    pieces: list[str] = []
    for segment in template.segments:
        if segment.converter is None:
            pieces.append(quote(segment.literal or "", safe=_SEGMENT_SAFE))
            continue
        text = str(params[segment.param or ""])
        if segment.converter.name == "path":
            if not text:
                return None
            pieces.append(quote(text, safe=_SEGMENT_SAFE + "/"))
            continue
        if "/" in text or segment.converter.convert(text) is None:
            return None
        pieces.append(quote(text, safe=_SEGMENT_SAFE))
    return "/" + "/".join(pieces)


class URLPaths:
    """Builds the paths of an app's named routes and mounts."""

    def __init__(self, routes: list[RouteDef], mounts: Mounts) -> None:
        self._routes = routes
        self._mounts = mounts
        self._by_name: dict[str, list[PathTemplate]] = {}
        self._indexed = -1

    def _templates(self, name: str) -> list[PathTemplate]:
        if self._indexed != len(self._routes):  # routes were added since the last index
            by_name: dict[str, list[PathTemplate]] = {}
            for route in self._routes:
                by_name.setdefault(route.name, []).append(parse_template(route.path))
            self._by_name, self._indexed = by_name, len(self._routes)
        return self._by_name.get(name, [])

    def path_for(self, name: str, params: dict[str, Any]) -> str:
        for template in self._templates(name):
            path = _fill(template, params)
            if path is not None:
                return path
        mount_name, colon, inner = name.partition(":")
        mount = self._mounts.named(mount_name if colon else name)
        if mount is not None:
            path = self._in_mount(mount, inner if colon else None, params)
            if path is not None:
                return path
        given = ", ".join(sorted(params)) or "no parameters"
        raise NoMatchFound(f"no route or mount named {name!r} takes {given}")

    @staticmethod
    def _in_mount(mount: Mount, inner: str | None, params: dict[str, Any]) -> str | None:
        if inner is not None:
            if mount.kind != "app":
                return None
            try:
                path: str = mount.app.url_path_for(inner, **params)
            except NoMatchFound:
                return None
            return mount.prefix + path
        if not set(params) <= {"path"}:
            return None
        rest = str(params.get("path", "")).lstrip("/")
        return f"{mount.prefix}/{quote(rest, safe=_SEGMENT_SAFE + '/')}"
