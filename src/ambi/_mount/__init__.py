"""Mounted apps: `app.mount(path, target)` hands every request under `path` to `target`.

A mount answers the requests no route matches (routes come first, so an app can mount a
single-page app at `/` beside its API), the longest mount path first. What a target is
decides how it is served:

- an ambi `App`: its own routes, hooks and error handlers, with the request path made
  relative to the mount (no protocol translation);
- an object with `serve_mounted(request, path)` (`StaticFiles`): called directly, so its
  files go out through the server's own file sending;
- any other ASGI app (Starlette, FastAPI, Starlette's StaticFiles...): over the bridge in
  `_bridge`, on the ASGI and the RSGI path alike, with its lifespan run at startup.

A request that reaches no route and no mount is a 404. Routes on a mounted app add nothing
to the OpenAPI document of the app it is mounted in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..exceptions import ConfigurationError, HTTPException
from ..execution import Shape, shape_of
from ._bridge import ASGIAppResponse, asgi_scope
from ._lifespan import ASGILifespan, LifespanError

if TYPE_CHECKING:
    from ..app import App
    from ..http import Request, Response

__all__ = ["LifespanError", "Mount", "Mounts", "NativeMount"]

logger = logging.getLogger("ambi.mount")


@runtime_checkable
class NativeMount(Protocol):
    """What ambi serves without ASGI in between (`StaticFiles` is one)."""

    async def serve_mounted(self, request: Request, path: str) -> Response:
        """Answer `request`; `path` is the part of its path under the mount ("" or "/...")."""
        ...


def _check_path(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigurationError(f"mount path {path!r} must start with '/'")
    if path != "/" and path.endswith("/"):
        raise ConfigurationError(f"mount path {path!r} must not end with '/'")
    if "{" in path or "}" in path:
        raise ConfigurationError(f"mount path {path!r} cannot have parameters")
    return "" if path == "/" else path


class Mount:
    """One mounted target and how to reach it."""

    __slots__ = ("app", "kind", "lifespan", "name", "path", "prefix")

    def __init__(self, path: str, target: Any, name: str | None, owner: App) -> None:
        from ..app import App

        self.prefix = _check_path(path)
        self.path = path
        self.name = name
        self.app = target
        self.lifespan: ASGILifespan | None = None
        if target is owner:
            raise ConfigurationError("an app cannot be mounted in itself")
        if isinstance(target, App):
            self.kind = "app"
        elif isinstance(target, NativeMount):
            self.kind = "native"
        elif callable(target) and shape_of(target) is Shape.COROUTINE:
            self.kind = "asgi"
            self.lifespan = ASGILifespan(target, path)
        else:
            raise ConfigurationError(
                f"mount({path!r}, ...) takes an ambi App, StaticFiles or an ASGI app (an async "
                f"callable taking scope, receive, send), not {target!r}"
            )

    def rest(self, path: str) -> str | None:
        """The part of `path` under this mount ("" or "/..."), or None if it is not under it."""
        prefix = self.prefix
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
            return path[len(prefix) :]
        return None

    async def serve(self, request: Request, rest: str) -> Response:
        if self.kind == "native":
            response: Response = await self.app.serve_mounted(request, rest)
            if response.deferred:
                await response.prepare(request.app.engine)
            return response
        if self.kind == "app":
            request.root_path += self.prefix
            request.path = rest or "/"
            request.app = self.app
            response = await self.app.dispatch(request)
            return response
        state = self.lifespan.state if self.lifespan is not None else {}
        scope = asgi_scope(request, request.root_path + self.prefix, state)
        return ASGIAppResponse(self.app, request, scope, self.path)

    async def startup(self) -> None:
        if self.kind == "app":
            await self.app.startup()
        elif self.lifespan is not None:
            await self.lifespan.startup()

    async def shutdown(self) -> None:
        if self.kind == "app":
            await self.app.shutdown()
        elif self.lifespan is not None:
            await self.lifespan.shutdown()

    def __repr__(self) -> str:
        return f"<Mount {self.path} {self.app!r}>"


class Mounts:
    """The mounts of one app, longest path first."""

    def __init__(self, owner: App) -> None:
        self._owner = owner
        self._mounts: list[Mount] = []
        self._started = False

    def __bool__(self) -> bool:
        return bool(self._mounts)

    def __iter__(self) -> Iterator[Mount]:
        return iter(self._mounts)

    def add(self, path: str, target: Any, name: str | None) -> Mount:
        if self._started:
            raise ConfigurationError(
                f"mount({path!r}, ...) after the app started: its lifespan could not run; "
                "mount before startup"
            )
        mount = Mount(path, target, name, self._owner)
        for other in self._mounts:
            if other.prefix == mount.prefix:
                raise ConfigurationError(f"{path!r} is already mounted ({other.app!r})")
            if name is not None and other.name == name:
                raise ConfigurationError(f"a mount named {name!r} exists already ({other.path})")
        self._mounts.append(mount)
        self._mounts.sort(key=lambda m: len(m.prefix), reverse=True)
        return mount

    def named(self, name: str) -> Mount | None:
        return next((m for m in self._mounts if m.name == name), None)

    def find(self, path: str) -> tuple[Mount, str] | None:
        """The mount `path` is under, and the rest of the path; None when there is none."""
        for mount in self._mounts:
            rest = mount.rest(path)
            if rest is not None:
                return mount, rest
        return None

    async def serve(self, request: Request) -> Response:
        """Hand `request` to the mount its path is under; 404 when there is none."""
        found = self.find(request.path)
        if found is None:
            raise HTTPException(404)
        return await found[0].serve(request, found[1])

    async def startup(self) -> None:
        self._started = True
        for mount in self._mounts:
            await mount.startup()

    async def shutdown(self) -> None:
        self._started = False
        errors: list[Exception] = []
        for mount in reversed(self._mounts):
            try:
                await mount.shutdown()
            except Exception as exc:
                logger.exception("the app mounted at %s did not shut down cleanly", mount.path)
                errors.append(exc)
        if errors:
            raise errors[0]
