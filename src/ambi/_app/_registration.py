"""Registering on `App`: routes (through `Router`'s decorators, which call `_register`),
websocket routes, the framework's own routes, mounts; the URL paths and the OpenAPI
document of what is registered, and FastAPI's names for the document's `info`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from ..openapi import openapi_document
from ..routing import RouteDef, RouteOptions, WebSocketRouteDef
from ..static import StaticFiles, StaticOptions

if TYPE_CHECKING:
    from .._mount import Mounts
    from .._openapi_info import OpenAPIInfo
    from .._pipeline import CompiledRoute
    from .._urls import URLPaths
    from .._websocket_route import WebSocketRoutes


class RegistrationMixin:
    """What is registered on `App`, and where it lands (`ambi._app`)."""

    info: OpenAPIInfo
    compiled: list[CompiledRoute]
    routes: list[RouteDef]
    websocket_routes: list[WebSocketRouteDef]
    websockets: WebSocketRoutes
    _mounts: Mounts
    _urls: URLPaths

    if TYPE_CHECKING:

        def _mount(self, route: RouteDef, *, internal: bool = False) -> CompiledRoute: ...

    # FastAPI's attribute names for the document's `info`.

    @property
    def title(self) -> str:
        return self.info.title

    @title.setter
    def title(self, value: str) -> None:
        self.info.title = value

    @property
    def version(self) -> str:
        return self.info.version

    @version.setter
    def version(self, value: str) -> None:
        self.info.version = value

    @property
    def description(self) -> str:
        return self.info.description or ""

    @description.setter
    def description(self, value: str) -> None:
        self.info.description = value

    # Registration -------------------------------------------------------------------------

    def _register(self, route: RouteDef) -> None:
        self.compiled.append(self._mount(route))
        self.routes.append(route)

    def _register_websocket(self, route: WebSocketRouteDef) -> None:
        self.websockets.add(route, self)  # type: ignore[arg-type]
        self.websocket_routes.append(route)

    def _add_internal_route(
        self, path: str, endpoint: Callable[..., Any], guards: Sequence[Callable[..., Any]] = ()
    ) -> None:
        """Serve a framework route (the OpenAPI document, the docs pages, metrics): matched
        like any GET route, but not in `routes`, `compiled` or the OpenAPI document."""
        options = RouteOptions(include_in_schema=False)
        if guards:
            options["guards"] = tuple(guards)
        self._mount(RouteDef(path, frozenset({"GET"}), endpoint, options), internal=True)

    def mount(self, path: str, app: Any, *, name: str | None = None) -> None:
        """Hand the requests under `path` that no route matches to `app`: an ambi App,
        `StaticFiles`, or any ASGI app (Starlette, FastAPI...), over ASGI and RSGI alike."""
        self._mounts.add(path, app, name)

    def mount_static(
        self,
        path: str,
        directory: str | os.PathLike[str],
        *,
        name: str | None = "static",
        **options: Unpack[StaticOptions],
    ) -> None:
        """Serve the files under `directory` at `path`: `mount(path, StaticFiles(...))`."""
        self.mount(path, StaticFiles(directory=directory, **options), name=name)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route (or mount) called `name`, with `params` put in;
        `NoMatchFound` if there is none that takes them."""
        return self._urls.path_for(name, params)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of this app (built on first use, rebuilt after new
        routes); served at `openapi_url`."""
        return openapi_document(self)  # type: ignore[arg-type]
