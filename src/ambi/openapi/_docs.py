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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import HTTPException
from ..http import FileResponse, HTMLResponse, Request, Response, dump_json
from ._generate import build_openapi

if TYPE_CHECKING:
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

#: app -> (number of routes when built, document, its JSON bytes)
_documents: weakref.WeakKeyDictionary[App, tuple[int, dict[str, Any], bytes]] = (
    weakref.WeakKeyDictionary()
)


def _servers(app: App) -> list[dict[str, Any]]:
    """The app's `servers`, led by its `root_path` (FastAPI's `root_path_in_servers`)."""
    servers = list(app.info.servers)
    root = app.root_path
    if root and app.root_path_in_servers and root not in {s.get("url") for s in servers}:
        servers.insert(0, {"url": root})
    return servers


def _cached(app: App) -> tuple[int, dict[str, Any], bytes]:
    cached = _documents.get(app)
    if cached is None or cached[0] != len(app.compiled):
        document = build_openapi(
            app.compiled,
            title=app.title,
            version=app.version,
            info=app.info.document_info(),
            servers=_servers(app),
            tags=app.info.openapi_tags,
            generate_unique_id_function=app.defaults.generate_unique_id_function,
        )
        cached = (len(app.compiled), document, dump_json(document))
        _documents[app] = cached
    return cached


def openapi_document(app: App) -> dict[str, Any]:
    """`app`'s OpenAPI document, built on first use and again after routes are added."""
    return _cached(app)[1]


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
    app: App,
    *,
    openapi_url: str | None,
    docs_url: str | None,
    redoc_url: str | None,
    root_path: str = "",
) -> None:
    """Serve `openapi_url`, `docs_url`, `redoc_url` (each off when None; the pages need the
    document, so `openapi_url=None` turns all three off) and the pages' assets. The
    pages load the document and assets under `root_path` (the app's, behind a proxy)."""
    if openapi_url is None:
        return
    schema_url = openapi_url

    async def openapi_json() -> Response:
        return Response(_cached(app)[2], media_type="application/json")

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
        swagger_page = swagger_ui_html(app.title, root_path + schema_url, root_path + static_url)

        async def swagger_ui() -> Response:
            return HTMLResponse(swagger_page)

        app._add_internal_route(docs_url, swagger_ui)
    if redoc_url is not None:
        redoc_page = redoc_html(app.title, root_path + schema_url, root_path + static_url)

        async def redoc() -> Response:
            return HTMLResponse(redoc_page)

        app._add_internal_route(redoc_url, redoc)
