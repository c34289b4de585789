"""Serving the OpenAPI document and the docs pages (Swagger UI, ReDoc) from local assets.

The pages load their JavaScript and CSS from `<docs_url>/static/`, files shipped inside
the package (`ambi/openapi/static/`, see its README for versions and licences): they
render with no internet access. The asset URLs carry the asset version, so they are sent
with a one-year `immutable` cache header.
"""

from __future__ import annotations

import html
import json
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import HTTPException
from ..http import FileResponse, HTMLResponse, Request, Response, dump_json
from ._generate import build_openapi
from ._route_info import Requirements, SecurityFor

if TYPE_CHECKING:
    from .._pipeline import CompiledRoute
    from ..app import App

__all__ = [
    "REDOC_VERSION",
    "STATIC_FILES",
    "SWAGGER_UI_VERSION",
    "install_docs",
    "openapi_document",
    "redoc_html",
    "swagger_ui_html",
]

SWAGGER_UI_VERSION = "5.35.0"
REDOC_VERSION = "2.5.4"

STATIC_DIR = Path(__file__).parent / "static"
#: The files served under `<docs_url>/static/<name>`: name -> (path, version).
_SWAGGER_DIR = STATIC_DIR / "swagger-ui"
STATIC_FILES: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_SWAGGER_DIR / "swagger-ui-bundle.js", SWAGGER_UI_VERSION),
    "swagger-ui.css": (_SWAGGER_DIR / "swagger-ui.css", SWAGGER_UI_VERSION),
    "favicon-32x32.png": (_SWAGGER_DIR / "favicon-32x32.png", SWAGGER_UI_VERSION),
    "redoc.standalone.js": (STATIC_DIR / "redoc" / "redoc.standalone.js", REDOC_VERSION),
}
_IMMUTABLE = {"cache-control": "public, max-age=31536000, immutable"}

#: app -> {root path served under: ((number of routes, JWT verifier) when built, document,
#: JSON bytes)}
_documents: weakref.WeakKeyDictionary[
    App, dict[str, tuple[tuple[int, Any], dict[str, Any], bytes]]
] = weakref.WeakKeyDictionary()
_MAX_ROOTS = 8  # an app is served under a root path or two (its own, a mount's)


def _app_security(app: App) -> SecurityFor | None:
    """What the app-wide verifier (`enable_jwt`) adds to the operations it covers."""
    jwt = app.jwt
    if jwt is None:
        return None
    schemes = {jwt.scheme_name: jwt.openapi_scheme()}

    def security(route: CompiledRoute) -> tuple[dict[str, Any], Requirements]:
        requirements = jwt.openapi_security(route, app)
        return (schemes if requirements else {}), requirements

    return security


def _servers(app: App, root: str) -> list[dict[str, Any]]:
    """The app's `servers`, led by the path it is served under (its `root_path`, a mount's
    prefix: FastAPI's `root_path_in_servers`)."""
    servers = list(app.info.servers)
    if root and app.root_path_in_servers and root not in {s.get("url") for s in servers}:
        servers.insert(0, {"url": root})
    return servers


def _cached(app: App, root: str) -> tuple[tuple[int, Any], dict[str, Any], bytes]:
    per_root = _documents.setdefault(app, {})
    cached = per_root.get(root)
    version = (len(app.compiled), app.jwt)
    if cached is None or cached[0] != version:
        document = build_openapi(
            app.compiled,
            title=app.title,
            version=app.version,
            info=app.info.document_info(),
            servers=_servers(app, root),
            tags=app.info.openapi_tags,
            generate_unique_id_function=app.defaults.generate_unique_id_function,
            security=_app_security(app),
        )
        cached = (version, document, dump_json(document))
        if len(per_root) >= _MAX_ROOTS:
            per_root.clear()
        per_root[root] = cached
    return cached


def openapi_document(app: App) -> dict[str, Any]:
    """`app`'s OpenAPI document, built on first use and again after routes are added."""
    return _cached(app, app.root_path)[1]


def _asset(static_url: str, name: str) -> str:
    return html.escape(f"{static_url}/{name}?v={STATIC_FILES[name][1]}")


def swagger_ui_html(title: str, openapi_url: str, static_url: str) -> str:
    """The Swagger UI page for the document at `openapi_url`."""
    config = json.dumps(
        {
            "url": openapi_url,
            "dom_id": "#swagger-ui",
            "layout": "BaseLayout",
            "deepLinking": True,
            "showExtensions": True,
            "showCommonExtensions": True,
            "validatorUrl": None,  # no badge fetched from the internet
        }
    ).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - Swagger UI</title>
<link rel="stylesheet" type="text/css" href="{_asset(static_url, "swagger-ui.css")}">
<link rel="icon" type="image/png" href="{_asset(static_url, "favicon-32x32.png")}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_asset(static_url, "swagger-ui-bundle.js")}"></script>
<script>
const config = {config};
config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
window.ui = SwaggerUIBundle(config);
</script>
</body>
</html>
"""


def redoc_html(title: str, openapi_url: str, static_url: str) -> str:
    """The ReDoc page for the document at `openapi_url`."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - ReDoc</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc needs JavaScript to show the documentation.</noscript>
<redoc spec-url="{html.escape(openapi_url)}"></redoc>
<script src="{_asset(static_url, "redoc.standalone.js")}"></script>
</body>
</html>
"""


def install_docs(
    app: App, *, openapi_url: str | None, docs_url: str | None, redoc_url: str | None
) -> None:
    """Serve `openapi_url`, `docs_url`, `redoc_url` (each off when None; the pages need the
    document, so `openapi_url=None` turns all three off) and the pages' assets.

    Each is served for the path the request came under (`request.root_path`: the app's
    `root_path`, a mount's prefix): the document lists it in `servers`, the pages load the
    document and their assets under it (as FastAPI does with the ASGI `root_path`).
    """
    if openapi_url is None:
        return
    schema_url = openapi_url

    async def openapi_json(request: Request) -> Response:
        return Response(_cached(app, request.root_path)[2], media_type="application/json")

    app._add_internal_route(schema_url, openapi_json)
    pages_url = docs_url or redoc_url
    if pages_url is None:
        return
    static_url = pages_url.rstrip("/") + "/static"

    async def static_file(request: Request) -> Response:
        # The request, not `name: str`: no validator to build for each App().
        found = STATIC_FILES.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404)
        return FileResponse(found[0], headers=_IMMUTABLE)

    app._add_internal_route(static_url + "/{name}", static_file)
    if docs_url is not None:
        app._add_internal_route(docs_url, _page(app, swagger_ui_html, schema_url, static_url))
    if redoc_url is not None:
        app._add_internal_route(redoc_url, _page(app, redoc_html, schema_url, static_url))


def _page(
    app: App, render: Callable[[str, str, str], str], schema_url: str, static_url: str
) -> Callable[[Request], Awaitable[Response]]:
    """The handler of a docs page, rendered once per root path it is served under."""
    pages: dict[str, str] = {}

    async def page(request: Request) -> Response:
        root = request.root_path
        html_page = pages.get(root)
        if html_page is None:
            if len(pages) >= _MAX_ROOTS:
                pages.clear()
            html_page = pages[root] = render(app.title, root + schema_url, root + static_url)
        return HTMLResponse(html_page)

    return page
